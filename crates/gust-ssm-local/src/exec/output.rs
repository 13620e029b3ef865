//! Output as SSM keeps it: standard output cut at 24,000 characters and standard error at
//! 8,000 (GetCommandInvocation), and a plugin's `Output` (ListCommandInvocations with
//! Details) that fits both into 2,500 characters, with a marker where either was cut.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Characters of standard output kept.
pub(crate) const STDOUT_LIMIT: usize = 24_000;
/// Characters of standard error kept.
pub(crate) const STDERR_LIMIT: usize = 8_000;
/// Characters in a plugin's `Output`.
pub(crate) const PLUGIN_OUTPUT_LIMIT: usize = 2_500;

/// How much a read asks for at a time.
const READ_CHUNK: usize = 4096;

const ERROR_HEADING: &str = "\n----------ERROR-------\n";
const OUTPUT_CUT: &str = "\n---Output truncated---";
const ERROR_CUT: &str = "\n---Error truncated----";

/// Reads a pipe to its end, keeping the first `limit` characters. The rest is read and
/// dropped, so the writer never blocks on a full pipe. Memory grows with what is kept, not
/// with what is read.
pub(crate) async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, limit: usize) -> String {
    let Some(mut pipe) = pipe else {
        return String::new();
    };

    let max_bytes = limit.saturating_mul(4);
    let mut kept = Vec::new();
    let mut overflow = Vec::new();
    loop {
        let read = if kept.len() < max_bytes {
            kept.reserve(READ_CHUNK.min(max_bytes - kept.len()));
            pipe.read_buf(&mut kept).await
        } else {
            overflow.resize(READ_CHUNK, 0);
            pipe.read(&mut overflow).await
        };
        match read {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    kept.truncate(max_bytes);

    let text = String::from_utf8_lossy(&kept);
    first_chars(&text, limit).to_owned()
}

/// The first `n` characters of `text` (all of it if shorter).
pub(crate) fn first_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// A plugin's `Output`: standard output, then standard error under a heading, within
/// [`PLUGIN_OUTPUT_LIMIT`] characters. Standard output may use whatever standard error leaves
/// unused and the other way round; when both are long, each gets half.
pub(crate) fn plugin_output(stdout: &str, stderr: &str) -> String {
    let heading = if stderr.is_empty() { "" } else { ERROR_HEADING };
    let budget = PLUGIN_OUTPUT_LIMIT - heading.chars().count();
    let stderr_len = stderr.chars().count();

    let stdout_room = if stderr_len <= budget / 2 {
        budget - stderr_len
    } else {
        budget / 2
    };
    let stdout_part = clip(stdout, stdout_room, OUTPUT_CUT);
    let stderr_room = budget - stdout_part.chars().count();
    let stderr_part = clip(stderr, stderr_room, ERROR_CUT);

    format!("{stdout_part}{heading}{stderr_part}")
}

/// `text` whole if it fits in `room` characters, else cut with `marker` at the end.
fn clip(text: &str, room: usize, marker: &str) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    let marker_len = marker.chars().count();
    if room < marker_len {
        return first_chars(text, room).to_owned();
    }
    format!("{}{marker}", first_chars(text, room - marker_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reading_keeps_the_first_characters_and_drains_the_rest() {
        let text = "é".repeat(30_000);
        let kept = read_capped(Some(text.as_bytes()), STDOUT_LIMIT).await;
        assert_eq!(kept.chars().count(), STDOUT_LIMIT);
        assert!(kept.chars().all(|c| c == 'é'));

        assert_eq!(read_capped(Some(&b"short"[..]), 10).await, "short");
        assert_eq!(read_capped(None::<&[u8]>, 10).await, "");
    }

    #[test]
    fn short_output_is_whole() {
        assert_eq!(plugin_output("hello\n", ""), "hello\n");
        assert_eq!(
            plugin_output("out", "err"),
            format!("out{ERROR_HEADING}err")
        );
    }

    #[test]
    fn long_output_fits_the_limit_with_markers() {
        let long = "o".repeat(10_000);
        let only_out = plugin_output(&long, "");
        assert_eq!(only_out.chars().count(), PLUGIN_OUTPUT_LIMIT);
        assert!(only_out.ends_with(OUTPUT_CUT));

        let both = plugin_output(&long, &"e".repeat(10_000));
        assert!(both.chars().count() <= PLUGIN_OUTPUT_LIMIT);
        assert!(both.contains(OUTPUT_CUT) && both.ends_with(ERROR_CUT));

        let short_err = plugin_output(&long, "boom");
        assert!(
            short_err.ends_with(&format!("{ERROR_HEADING}boom")),
            "{short_err}"
        );
        assert!(short_err.chars().count() <= PLUGIN_OUTPUT_LIMIT);

        let short_out = plugin_output("ok", &long);
        assert!(short_out.starts_with(&format!("ok{ERROR_HEADING}")));
        assert!(short_out.chars().count() <= PLUGIN_OUTPUT_LIMIT);
    }
}
