//! Two transcripts' lines aligned: lane by lane (an actor's connection), as the longest common
//! subsequence of their masked lines, the differences gathered into hunks, each at the step
//! where it begins.
//!
//! Lanes are aligned apart because the order of events *across* connections depends on
//! scheduling (the answer to a held polling GET and a WebSocket frame race), while their order
//! on one connection is the protocol's. A line that both sides have but in different steps
//! (an answer that came a little later) is not a difference: steps only place the hunks.

use serde::Serialize;

use super::normalise::{Line, Step};

/// Where two transcripts differ on one lane: consecutive lines one side has and the other
/// has not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    /// The step where the difference begins (side A's, or B's when A has no line there).
    pub step: StepName,
    /// The actor and connection: `client http#2`.
    pub lane: String,
    /// Side A's lines there (masked, as shown).
    pub a: Vec<String>,
    /// Side B's lines there.
    pub b: Vec<String>,
}

/// A step as JSON shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StepName {
    /// 1-based; 0 before the first step.
    pub number: usize,
    /// The step's keyword.
    pub keyword: String,
}

impl From<&Step> for StepName {
    fn from(step: &Step) -> StepName {
        StepName {
            number: step.number,
            keyword: step.keyword.clone(),
        }
    }
}

impl std::fmt::Display for StepName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.number == 0 {
            write!(f, "before the first step")
        } else {
            write!(f, "step {} {}", self.number, self.keyword)
        }
    }
}

/// Above this many cells, a lane's middle is compared line by line instead of by the longest
/// common subsequence (whose table it would be): a bound on time and memory for huge lanes.
const MAX_TABLE_CELLS: usize = 4_000_000;

/// The hunks where `a` and `b` differ, in step order (and, within a step, in the order the
/// lanes first appear); empty when they are the same.
pub fn hunks(a: &[Line], b: &[Line]) -> Vec<Hunk> {
    let mut lanes: Vec<&str> = Vec::new();
    for line in a.iter().chain(b) {
        if !lanes.contains(&line.lane.as_str()) {
            lanes.push(&line.lane);
        }
    }
    let mut hunks: Vec<(usize, Hunk)> = Vec::new();
    for (order, lane) in lanes.iter().enumerate() {
        let side_a: Vec<&Line> = a.iter().filter(|line| line.lane == *lane).collect();
        let side_b: Vec<&Line> = b.iter().filter(|line| line.lane == *lane).collect();
        hunks.extend(
            lane_hunks(&side_a, &side_b)
                .into_iter()
                .map(|hunk| (order, hunk)),
        );
    }
    hunks.sort_by(|(order_x, x), (order_y, y)| {
        x.step.number.cmp(&y.step.number).then(order_x.cmp(order_y))
    });
    hunks.into_iter().map(|(_, hunk)| hunk).collect()
}

/// One lane's hunks.
fn lane_hunks(a: &[&Line], b: &[&Line]) -> Vec<Hunk> {
    let edits = edit_script(a, b);
    let mut hunks = Vec::new();
    let mut current: Option<Hunk> = None;
    for edit in edits {
        match edit {
            Edit::Same => {
                if let Some(hunk) = current.take() {
                    hunks.push(hunk);
                }
            }
            Edit::OnlyA(line) | Edit::OnlyB(line) => {
                let hunk = current.get_or_insert_with(|| Hunk {
                    step: StepName::from(&line.step),
                    lane: line.lane.clone(),
                    a: Vec::new(),
                    b: Vec::new(),
                });
                match edit {
                    Edit::OnlyA(line) => hunk.a.push(line.shown.clone()),
                    _ => hunk.b.push(line.shown.clone()),
                }
            }
        }
    }
    hunks.extend(current);
    hunks
}

/// One step of the edit script from `a` to `b`.
#[derive(Debug, Clone, Copy)]
enum Edit<'l> {
    /// A line both have.
    Same,
    /// A line only side A has.
    OnlyA(&'l Line),
    /// A line only side B has.
    OnlyB(&'l Line),
}

/// The edit script: the common prefix and suffix, and between them the longest common
/// subsequence (or, past [`MAX_TABLE_CELLS`], the lines paired by position).
fn edit_script<'l>(a: &[&'l Line], b: &[&'l Line]) -> Vec<Edit<'l>> {
    let same = |x: &Line, y: &Line| x.key == y.key;
    let prefix = a.iter().zip(b).take_while(|(x, y)| same(x, y)).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| same(x, y))
        .count();
    let middle_a = &a[prefix..a.len() - suffix];
    let middle_b = &b[prefix..b.len() - suffix];
    let mut edits = vec![Edit::Same; prefix];
    if middle_a.len().saturating_mul(middle_b.len()) > MAX_TABLE_CELLS {
        for index in 0..middle_a.len().max(middle_b.len()) {
            match (middle_a.get(index), middle_b.get(index)) {
                (Some(x), Some(y)) if same(x, y) => edits.push(Edit::Same),
                (x, y) => {
                    edits.extend(x.map(|line| Edit::OnlyA(line)));
                    edits.extend(y.map(|line| Edit::OnlyB(line)));
                }
            }
        }
    } else {
        edits.extend(longest_common_subsequence(middle_a, middle_b));
    }
    edits.extend(std::iter::repeat_n(Edit::Same, suffix));
    edits
}

/// The classic dynamic programme: `table[i][j]` is the length of the longest common
/// subsequence of `a[i..]` and `b[j..]`; walking it from the start gives the edits, A's
/// removals before B's additions within a run.
fn longest_common_subsequence<'l>(a: &[&'l Line], b: &[&'l Line]) -> Vec<Edit<'l>> {
    let width = b.len() + 1;
    let mut table = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            table[i * width + j] = if a[i].key == b[j].key {
                table[(i + 1) * width + j + 1] + 1
            } else {
                table[(i + 1) * width + j].max(table[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut edits = Vec::with_capacity(a.len() + b.len());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i].key == b[j].key {
            edits.push(Edit::Same);
            i += 1;
            j += 1;
        } else if j == b.len()
            || (i < a.len() && table[(i + 1) * width + j] >= table[i * width + j + 1])
        {
            edits.push(Edit::OnlyA(a[i]));
            i += 1;
        } else {
            edits.push(Edit::OnlyB(b[j]));
            j += 1;
        }
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(step: usize, lane: &str, text: &str) -> Line {
        Line {
            step: Step {
                number: step,
                keyword: "send".to_owned(),
            },
            lane: lane.to_owned(),
            key: text.to_owned(),
            shown: text.to_owned(),
        }
    }

    #[test]
    fn equal_lanes_have_no_hunk_whatever_the_steps_and_interleaving() {
        let a = [
            line(1, "c ws#1", "> 40"),
            line(1, "c http#2", "< 200"),
            line(2, "c ws#1", "< 40{}"),
        ];
        let b = [
            line(1, "c http#2", "< 200"),
            line(1, "c ws#1", "> 40"),
            line(1, "c ws#1", "< 40{}"),
        ];
        assert!(hunks(&a, &b).is_empty());
    }

    #[test]
    fn a_changed_line_is_one_hunk_with_both_sides_at_its_step() {
        let a = [
            line(1, "c ws#1", "> 40"),
            line(2, "c ws#1", "< 40{}"),
            line(3, "c ws#1", "> 41"),
        ];
        let b = [
            line(1, "c ws#1", "> 40"),
            line(2, "c ws#1", "< 44{}"),
            line(3, "c ws#1", "> 41"),
        ];
        let found = hunks(&a, &b);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].step.number, 2);
        assert_eq!(found[0].a, ["< 40{}"]);
        assert_eq!(found[0].b, ["< 44{}"]);
    }

    #[test]
    fn lines_only_one_side_has_are_hunks_in_step_order() {
        let a = [line(1, "c ws#1", "> 40"), line(3, "c ws#1", "< 2")];
        let b = [line(1, "c ws#1", "> 40"), line(2, "c http#2", "< 400")];
        let found = hunks(&a, &b);
        let steps: Vec<usize> = found.iter().map(|hunk| hunk.step.number).collect();
        assert_eq!(steps, [2, 3], "{found:?}");
        assert_eq!(found[0].b, ["< 400"]);
        assert!(found[0].a.is_empty());
        assert_eq!(found[1].a, ["< 2"]);
    }
}
