//! Tasks whose trigger rule is met, waiting for slots: one FIFO queue per pool, served
//! oldest first across pools, so a full pool does not hold back tasks of other pools.
//!
//! Within a pool, a task that needs more slots than are free does not hold back a later
//! task that needs fewer (as in Airflow's scheduler).

use std::collections::VecDeque;

#[derive(Debug)]
struct PoolQueue {
    name: String,
    /// (arrival number, task index, slots needed), oldest first.
    waiting: VecDeque<(u64, usize, u32)>,
    /// This round, only tasks needing fewer slots than this can still fit.
    fits_below: u32,
}

#[derive(Debug, Default)]
pub(crate) struct ReadyQueues {
    /// Few pools, so a list.
    pools: Vec<PoolQueue>,
    arrivals: u64,
    len: usize,
}

/// A waiting task picked by [`ReadyQueues::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pick {
    pool: usize,
    position: usize,
    pub(crate) index: usize,
    slots: u32,
}

impl ReadyQueues {
    pub(crate) fn push(&mut self, pool: &str, index: usize, slots: u32) {
        let at = match self.pools.iter().position(|queue| queue.name == pool) {
            Some(at) => at,
            None => {
                self.pools.push(PoolQueue {
                    name: pool.to_owned(),
                    waiting: VecDeque::new(),
                    fits_below: u32::MAX,
                });
                self.pools.len() - 1
            }
        };
        self.pools[at]
            .waiting
            .push_back((self.arrivals, index, slots));
        self.arrivals += 1;
        self.len += 1;
    }

    /// The oldest waiting task that may still fit this round.
    pub(crate) fn next(&self) -> Option<Pick> {
        self.pools
            .iter()
            .enumerate()
            .filter_map(|(pool, queue)| {
                let (position, (arrival, index, slots)) = queue
                    .waiting
                    .iter()
                    .enumerate()
                    .find(|(_, (_, _, slots))| *slots < queue.fits_below)?;
                Some((*arrival, pool, position, *index, *slots))
            })
            .min()
            .map(|(_, pool, position, index, slots)| Pick {
                pool,
                position,
                index,
                slots,
            })
    }

    /// Removes a picked task.
    pub(crate) fn take(&mut self, pick: Pick) {
        if self.pools[pick.pool]
            .waiting
            .remove(pick.position)
            .is_some()
        {
            self.len -= 1;
        }
    }

    /// Records that a picked task did not fit: for the rest of the round its pool only
    /// offers tasks that need fewer slots.
    pub(crate) fn did_not_fit(&mut self, pick: Pick) {
        let queue = &mut self.pools[pick.pool];
        queue.fits_below = queue.fits_below.min(pick.slots);
    }

    /// Ends a dispatch round.
    pub(crate) fn end_round(&mut self) {
        for queue in &mut self.pools {
            queue.fits_below = u32::MAX;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties every queue.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
        for queue in &mut self.pools {
            queue.waiting.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_first_across_pools_skipping_full_ones() {
        let mut ready = ReadyQueues::default();
        ready.push("a", 1, 1);
        ready.push("b", 2, 1);
        ready.push("a", 3, 1);
        let pick = ready.next().unwrap();
        assert_eq!(pick.index, 1);
        ready.did_not_fit(pick);
        let pick_b = ready.next().unwrap();
        assert_eq!(pick_b.index, 2);
        ready.take(pick_b);
        assert_eq!(ready.next(), None);
        ready.end_round();
        assert_eq!(ready.next().map(|p| p.index), Some(1));
        ready.clear();
        assert!(ready.is_empty());
    }

    #[test]
    fn a_wide_task_that_does_not_fit_lets_narrower_ones_pass() {
        let mut ready = ReadyQueues::default();
        ready.push("p", 1, 3);
        ready.push("p", 2, 3);
        ready.push("p", 3, 1);
        let wide = ready.next().unwrap();
        ready.did_not_fit(wide);
        let narrow = ready.next().unwrap();
        assert_eq!(narrow.index, 3);
    }
}
