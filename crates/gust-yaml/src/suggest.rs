//! "Did you mean ...?": the known names nearest to a misspelled one.

/// The known names within a small edit distance of `given`, nearest first (at most 3).
pub fn nearest<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let given_lower = given.to_ascii_lowercase();
    let mut scored: Vec<(usize, &str)> = known
        .into_iter()
        .map(|name| (distance(&given_lower, &name.to_ascii_lowercase()), name))
        .filter(|(d, name)| *d <= (name.len() / 3).max(2))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// " (did you mean a, b?)" or "".
pub fn did_you_mean<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let near = nearest(given, known);
    if near.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", near.join(", "))
    }
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names_are_suggested() {
        let known = ["command_id", "instance_id", "aws_conn_id"];
        assert_eq!(nearest("comand_id", known), vec!["command_id"]);
        assert_eq!(did_you_mean("zzz", known), "");
        assert_eq!(
            did_you_mean(
                "SsmRunComandOperator",
                ["SsmRunCommandOperator", "BashOperator"]
            ),
            " (did you mean SsmRunCommandOperator?)"
        );
    }
}
