//! What Socket.IO protocol 4 changes on the server: the protocol of socket.io 1.x and 2.x
//! clients, over Engine.IO protocol 3, served when the Engine.IO options allow protocol 3
//! ([`allow_eio3`](crate::server::engine_io::Config::allow_eio3)), as the official server
//! does with `allowEIO3`.
//!
//! From the [protocol 4 spec] and, where it is silent, the official server (behaviors V4-01
//! to V4-06):
//!
//! - "The server always send a `CONNECT` packet for the default namespace (`/`) when the
//!   connection is established": the client is joined to `/` without asking, and the answer
//!   is a bare `40`;
//! - a CONNECT "does not contain any payload": the answer to `40/admin,` is `40/admin,`, and
//!   "the client may include additional information (i.e. for authentication purpose) in the
//!   namespace field" (`40/admin?token=1234,`), which becomes the handshake's `auth`;
//! - an ERROR (CONNECT_ERROR) carries a string: `44/admin,"Not authorized"`;
//! - a socket's id is the Engine.IO session's for `/`, `/<namespace>#<session id>` for the
//!   others (the official server's; v5 made them distinct).
//!
//! [protocol 4 spec]: https://github.com/socketio/socket.io-protocol/blob/8df2120a6f037d309c107254fb9c77bea06f7771/Readme.md

use crate::socket_io::Value;

/// A namespace as a protocol 4 client writes it, `/admin?token=1234`: the namespace's name and
/// the query after it, if any.
pub(crate) fn split_namespace(written: &str) -> (&str, Option<&str>) {
    match written.split_once('?') {
        Some((name, query)) => (name, Some(query)),
        None => (written, None),
    }
}

/// The `auth` of a protocol 4 CONNECT: its namespace's query, as an object of strings
/// (`token=1234&uid=abcd` gives `{"token":"1234","uid":"abcd"}`), `{}` when there is none. A
/// key given twice keeps its last value, as the official server's `Object.fromEntries` does.
pub(crate) fn query_auth(query: Option<&str>) -> Value {
    let mut entries: Vec<(String, Value)> = Vec::new();
    for pair in query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (form_decode(key), form_decode(value));
        entries.retain(|(existing, _)| *existing != key);
        entries.push((key, Value::from(value.as_str())));
    }
    Value::Object(entries)
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte;
/// a `%` not followed by two hex digits stays as it is, and bytes that are not UTF-8 become
/// U+FFFD, as a URL parser reads them.
fn form_decode(component: &str) -> String {
    percent_encoding::percent_decode_str(&component.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The id of a protocol 4 socket: the Engine.IO session id for `/`, `<namespace>#<session id>`
/// for another namespace (behaviors V4-06).
pub(crate) fn socket_id(namespace: &str, engine_id: &str) -> String {
    if namespace == "/" {
        engine_id.to_owned()
    } else {
        format!("{namespace}#{engine_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_query_is_split_off() {
        assert_eq!(
            split_namespace("/admin?token=1234"),
            ("/admin", Some("token=1234"))
        );
        assert_eq!(split_namespace("/admin"), ("/admin", None));
        assert_eq!(split_namespace("/"), ("/", None));
    }

    #[test]
    fn a_query_becomes_an_object_of_strings() {
        assert_eq!(
            query_auth(Some("token=abc&x=1")).to_json(),
            r#"{"token":"abc","x":"1"}"#
        );
        assert_eq!(query_auth(None).to_json(), "{}");
        assert_eq!(query_auth(Some("")).to_json(), "{}");
        assert_eq!(
            query_auth(Some("a=1&a=2&flag")).to_json(),
            r#"{"a":"2","flag":""}"#
        );
    }

    #[test]
    fn components_are_form_decoded() {
        assert_eq!(form_decode("a+b%20c%2Fd"), "a b c/d");
        assert_eq!(form_decode("%E2%82%AC"), "€");
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("%FF"), "\u{fffd}");
    }

    #[test]
    fn socket_ids_are_the_session_id_with_the_namespace() {
        assert_eq!(socket_id("/", "abc"), "abc");
        assert_eq!(socket_id("/admin", "abc"), "/admin#abc");
    }
}
