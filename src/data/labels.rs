//! Turning label cells (numbers or strings) into class ids with names.
//!
//! Integer labels keep their value as the id (MNIST's 0-9 stay 0-9); any other labels
//! are sorted (numerically when they all parse as numbers) and numbered in that order,
//! so the mapping never depends on row order or hashing.

use std::collections::BTreeMap;

/// Class ids for `raw` and the class names indexed by id.
pub fn encode(raw: &[String]) -> (Vec<u32>, Vec<String>) {
    let ints: Option<Vec<u32>> = raw.iter().map(|s| s.trim().parse::<u32>().ok()).collect();
    if let Some(ints) = ints
        && ints.iter().all(|&v| v < 100_000)
    {
        let k = ints.iter().copied().max().map_or(0, |m| m as usize + 1);
        // Ids kept as given; sparse ids (e.g. only 3 and 7) are compacted below.
        let used: std::collections::BTreeSet<u32> = ints.iter().copied().collect();
        if used.len() == k {
            return (ints, (0..k).map(|c| c.to_string()).collect());
        }
        let map: BTreeMap<u32, u32> = used
            .iter()
            .enumerate()
            .map(|(i, &v)| (v, i as u32))
            .collect();
        let names = used.iter().map(|v| v.to_string()).collect();
        return (ints.iter().map(|v| map[v]).collect(), names);
    }
    let nums: Option<Vec<f64>> = raw.iter().map(|s| s.trim().parse::<f64>().ok()).collect();
    let mut uniq: Vec<String> = raw.iter().map(|s| s.trim().to_string()).collect();
    uniq.sort();
    uniq.dedup();
    if nums.is_some() {
        uniq.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.parse::<f64>().unwrap_or(0.0))
        });
    }
    let map: BTreeMap<&str, u32> = uniq
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let ids = raw
        .iter()
        .map(|s| map.get(s.trim()).copied().unwrap_or(0))
        .collect();
    (ids, uniq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn integers_keep_their_ids() {
        assert_eq!(encode(&s(&["2", "0", "1", "2"])).0, vec![2, 0, 1, 2]);
    }

    #[test]
    fn strings_are_sorted_then_numbered() {
        let (ids, names) = encode(&s(&["dog", "cat", "dog", "bird"]));
        assert_eq!(names, s(&["bird", "cat", "dog"]));
        assert_eq!(ids, vec![2, 1, 2, 0]);
    }

    #[test]
    fn sparse_integers_are_compacted() {
        let (ids, names) = encode(&s(&["7", "3", "7"]));
        assert_eq!((ids, names), (vec![1, 0, 1], s(&["3", "7"])));
    }
}
