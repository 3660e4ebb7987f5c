//! Deserializing values that may be written short: a bare string (or number) for the common
//! case, a map for the full form, and, for lists, a single item for a list of one.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A value that can be written as a bare string (numbers count as their decimal text, since
/// `- receive: 2` is how a ping is naturally written) or as a map.
pub(crate) trait Shorthand: Sized {
    /// The full form, read from a map.
    type Full: DeserializeOwned;
    /// What the shorthand, and the full form, are expected to look like (for errors).
    const EXPECTING: &'static str;
    /// The value a bare string stands for.
    fn from_text(text: String) -> Result<Self, String>;
    /// The value a full form stands for.
    fn from_full(full: Self::Full) -> Result<Self, String>;
}

/// Deserializes a [`Shorthand`] value.
pub(crate) fn deserialize<'de, T: Shorthand, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_any(ShorthandVisitor(PhantomData))
}

struct ShorthandVisitor<T>(PhantomData<T>);

impl<'de, T: Shorthand> Visitor<'de> for ShorthandVisitor<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(T::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        T::from_text(text.to_owned()).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<T, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<T, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        let full = T::Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
        T::from_full(full).map_err(de::Error::custom)
    }
}

/// One item or a list of them.
#[derive(Debug, Clone, PartialEq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: Shorthand> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OneOrManyVisitor(PhantomData))
    }
}

struct OneOrManyVisitor<T>(PhantomData<T>);

impl<'de, T: Shorthand> Visitor<'de> for OneOrManyVisitor<T> {
    type Value = OneOrMany<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}, or a list of them", T::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        ShorthandVisitor::<T>(PhantomData)
            .visit_str(text)
            .map(|one| OneOrMany(vec![one]))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        ShorthandVisitor::<T>(PhantomData)
            .visit_map(map)
            .map(|one| OneOrMany(vec![one]))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ShorthandSeed::<T>(PhantomData))? {
            items.push(item);
        }
        Ok(OneOrMany(items))
    }
}

struct ShorthandSeed<T>(PhantomData<T>);

impl<'de, T: Shorthand> de::DeserializeSeed<'de> for ShorthandSeed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserialize(deserializer)
    }
}

/// Implements `Deserialize` for a [`Shorthand`] type.
macro_rules! deserialize_shorthand {
    ($type:ty) => {
        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::scenario::shorthand::deserialize(deserializer)
            }
        }
    };
}
pub(crate) use deserialize_shorthand;
