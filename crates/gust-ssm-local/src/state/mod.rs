//! Everything the service remembers: its commands, in the order they were sent, each with its
//! invocations. Commands are never removed, so a command's position (its sequence number)
//! never changes and can anchor pagination tokens.

mod command;
mod invocation;

use std::collections::HashMap;
use std::sync::Arc;

pub(crate) use command::{CommandRecord, CommandSpec, ScriptSpec, Summary};
pub(crate) use invocation::{Finished, InvocationRecord, InvocationStatus};

/// All commands, by sequence number and by id.
#[derive(Debug, Default)]
pub(crate) struct Store {
    commands: Vec<CommandRecord>,
    by_id: HashMap<Arc<str>, usize>,
}

impl Store {
    /// Keeps a new command and gives its sequence number.
    pub(crate) fn insert(&mut self, command: CommandRecord) -> usize {
        let seq = self.commands.len();
        self.by_id.insert(command.id.clone(), seq);
        self.commands.push(command);
        seq
    }

    pub(crate) fn seq_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub(crate) fn command(&self, seq: usize) -> Option<&CommandRecord> {
        self.commands.get(seq)
    }

    pub(crate) fn command_mut(&mut self, seq: usize) -> Option<&mut CommandRecord> {
        self.commands.get_mut(seq)
    }

    /// The commands a listing walks through, newest first: only `only` if given, else all
    /// from sequence number `start` (inclusive, the newest if `None`) down to the oldest.
    pub(crate) fn listing(
        &self,
        only: Option<usize>,
        start: Option<usize>,
    ) -> Box<dyn Iterator<Item = (usize, &CommandRecord)> + '_> {
        if let Some(seq) = only {
            let one = self.commands.get(seq).map(|command| (seq, command));
            return Box::new(one.into_iter());
        }
        let end = start.map_or(self.commands.len(), |start| start.saturating_add(1));
        let end = end.min(self.commands.len());
        Box::new(self.commands[..end].iter().enumerate().rev())
    }
}
