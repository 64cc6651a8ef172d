//! Results remembered by (ancestor code, code), oldest dropped first.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::request::{ExecRequest, ExecResult};
use crate::tree::ExecStatus;

/// A bounded first-in-first-out cache. Search trees re-run the same path prefixes constantly
/// (siblings share ancestors, SBS and MCTS revisit), so even FIFO eviction hits well.
pub(crate) struct ResultCache {
    capacity: usize,
    entries: HashMap<Arc<ExecRequest>, ExecResult>,
    order: VecDeque<Arc<ExecRequest>>,
}

impl ResultCache {
    pub(crate) fn new(capacity: usize) -> ResultCache {
        ResultCache { capacity, entries: HashMap::new(), order: VecDeque::new() }
    }

    pub(crate) fn get(&self, request: &ExecRequest) -> Option<ExecResult> {
        self.entries.get(request).map(|result| ExecResult { cached: true, ..result.clone() })
    }

    /// Remembers `result` unless it says more about the machine than about the code: a
    /// `Killed` result may come from a worker that died for other reasons.
    pub(crate) fn insert(&mut self, request: &ExecRequest, result: &ExecResult) {
        if self.capacity == 0 || result.status == ExecStatus::Killed || self.entries.contains_key(request) {
            return;
        }
        while self.order.len() >= self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
        let key = Arc::new(request.clone());
        self.order.push_back(Arc::clone(&key));
        self.entries.insert(key, ExecResult { cached: false, ..result.clone() });
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn result(status: ExecStatus) -> ExecResult {
        ExecResult { observation: "1".into(), status, elapsed: Duration::from_millis(3), cached: false }
    }

    #[test]
    fn evicts_oldest_and_marks_hits_as_cached() {
        let mut cache = ResultCache::new(2);
        let requests: Vec<_> = (0..3).map(|i| ExecRequest::new(vec![], format!("print({i})"))).collect();
        for request in &requests {
            cache.insert(request, &result(ExecStatus::Ok));
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&requests[0]).is_none());
        let hit = cache.get(&requests[2]).expect("kept");
        assert!(hit.cached);
    }

    #[test]
    fn ancestors_are_part_of_the_key_and_killed_is_not_kept() {
        let mut cache = ResultCache::new(8);
        let plain = ExecRequest::new(vec![], "print(x)");
        let replayed = ExecRequest::new(vec!["x = 1".into()], "print(x)");
        cache.insert(&plain, &result(ExecStatus::Error));
        assert!(cache.get(&replayed).is_none());
        cache.insert(&replayed, &result(ExecStatus::Killed));
        assert!(cache.get(&replayed).is_none());
    }
}
