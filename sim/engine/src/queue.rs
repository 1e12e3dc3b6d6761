//! The event queue: events ordered by (time, sequence). Every model event happens at a day's
//! JST midnight, so the queue is a calendar of one bucket per day of the period, each bucket
//! first-in first-out; an event scheduled for the day being processed runs later that same
//! day, after every event already queued for it. That is exactly the (time, sequence) order
//! of a priority queue, with O(1) push and pop. Events past the period are dropped.

use crate::calendar::Day;

/// A per-day event queue.
#[derive(Debug)]
pub struct EventQueue<E> {
    buckets: Vec<Vec<E>>,
    /// The day being processed; nothing may be scheduled before it.
    current: usize,
    /// Next position to pop in the current bucket.
    cursor: usize,
}

impl<E: Copy> EventQueue<E> {
    /// A queue for a period of `days` days.
    pub fn new(days: u32) -> EventQueue<E> {
        EventQueue {
            buckets: (0..days).map(|_| Vec::new()).collect(),
            current: 0,
            cursor: 0,
        }
    }

    /// Schedules `event` on `day`; a day before the current one means the current day.
    /// Returns `false` (and drops the event) when the day is past the period.
    pub fn push(&mut self, day: Day, event: E) -> bool {
        let day = usize::from(day).max(self.current);
        match self.buckets.get_mut(day) {
            Some(bucket) => {
                bucket.push(event);
                true
            }
            None => false,
        }
    }

    /// The next event of `day`, if any; `day` must not be before the current day. Moving to
    /// a later day releases the memory of the days left behind.
    pub fn pop(&mut self, day: Day) -> Option<E> {
        let day = usize::from(day);
        while self.current < day {
            if let Some(done) = self.buckets.get_mut(self.current) {
                *done = Vec::new();
            }
            self.current += 1;
            self.cursor = 0;
        }
        let bucket = self.buckets.get(self.current)?;
        let event = bucket.get(self.cursor).copied()?;
        self.cursor += 1;
        Some(event)
    }

    /// Events still queued (for sizing reports).
    pub fn pending(&self) -> usize {
        self.buckets[self.current.min(self.buckets.len())..]
            .iter()
            .map(Vec::len)
            .sum::<usize>()
            .saturating_sub(self.cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_by_day_then_by_insertion() {
        let mut q = EventQueue::new(5);
        assert!(q.push(2, 'c'));
        assert!(q.push(0, 'a'));
        assert!(q.push(2, 'd'));
        assert!(q.push(1, 'b'));
        assert!(!q.push(5, 'z'));
        assert_eq!(q.pop(0), Some('a'));
        assert_eq!(q.pop(0), None);
        assert_eq!(q.pop(1), Some('b'));
        assert_eq!(q.pop(2), Some('c'));
        // Scheduled for today while today runs: after what is queued, and "yesterday" is today.
        assert!(q.push(2, 'e'));
        assert!(q.push(0, 'f'));
        assert_eq!(q.pending(), 3);
        assert_eq!(q.pop(2), Some('d'));
        assert_eq!(q.pop(2), Some('e'));
        assert_eq!(q.pop(2), Some('f'));
        assert_eq!(q.pop(4), None);
    }
}
