//! Pagination: MaxResults bounds and NextToken cursors. A cursor names the position of the
//! next item (a command's sequence number and an index within it), which stays valid while
//! new commands arrive, since commands are listed newest first and never removed.

use crate::protocol::{ApiError, Violations};
use crate::state::Store;

/// Where the next page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) seq: usize,
    pub(crate) index: usize,
}

/// MaxResults checked against `min..=max`, or `default` when absent.
pub(crate) fn page_size(
    max_results: Option<i64>,
    (min, max): (i64, i64),
    default: usize,
    violations: &mut Violations,
) -> usize {
    violations.range(max_results, "maxResults", min, max);
    max_results
        .and_then(|n| usize::try_from(n.clamp(min, max)).ok())
        .unwrap_or(default)
}

/// A NextToken handed out by a listing of `kind`.
pub(crate) fn token(kind: &str, cursor: Cursor) -> String {
    format!("{kind}.{}.{}", cursor.seq, cursor.index)
}

/// The cursor in a NextToken, which must come from a listing of the same `kind`.
pub(crate) fn parse(token: Option<&str>, kind: &str) -> Result<Option<Cursor>, ApiError> {
    let Some(token) = token else {
        return Ok(None);
    };
    let mut parts = token.split('.');
    let cursor = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(k), Some(seq), Some(index), None) if k == kind => {
            seq.parse().ok().zip(index.parse().ok())
        }
        _ => None,
    };
    match cursor {
        Some((seq, index)) => Ok(Some(Cursor { seq, index })),
        None => Err(ApiError::invalid_next_token()),
    }
}

/// The sequence number of the one command a listing is limited to, if `command_id` is given:
/// InvalidCommandId if there is no such command, InvalidNextToken if the cursor points into
/// another command.
pub(crate) fn only_command(
    store: &Store,
    command_id: Option<&str>,
    cursor: Option<Cursor>,
) -> Result<Option<usize>, ApiError> {
    let Some(id) = command_id else {
        return Ok(None);
    };
    let seq = store
        .seq_of(id)
        .ok_or_else(|| ApiError::invalid_command_id(id))?;
    match cursor {
        Some(cursor) if cursor.seq != seq => Err(ApiError::invalid_next_token()),
        _ => Ok(Some(seq)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_strangers_are_refused() {
        let cursor = Cursor { seq: 7, index: 50 };
        assert_eq!(parse(Some(&token("inv", cursor)), "inv"), Ok(Some(cursor)));
        assert_eq!(parse(None, "inv"), Ok(None));
        for bad in [
            "",
            "inv",
            "inv.1",
            "inv.x.2",
            "cmd.1.2",
            "inv.1.2.3",
            "inv.-1.0",
        ] {
            assert_eq!(
                parse(Some(bad), "inv").unwrap_err().code,
                "InvalidNextToken",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn page_sizes_are_bounded() {
        let mut violations = Violations::default();
        assert_eq!(page_size(None, (1, 50), 50, &mut violations), 50);
        assert_eq!(page_size(Some(7), (1, 50), 50, &mut violations), 7);
        assert!(violations.into_result().is_ok());

        let mut violations = Violations::default();
        page_size(Some(51), (1, 50), 50, &mut violations);
        assert_eq!(
            violations.into_result().unwrap_err().code,
            "ValidationException"
        );
    }
}
