//! [`NotifyWord`]: the words of a receiving port (a subscriber, a listener)
//! through which its senders signal a wake descriptor the waiting process
//! owns (a socket pair: the runtime's `WakeSocket`),
//! beside the futex protocol of [`WakeWord`](crate::port::WakeWord).
//!
//! The futex of a port has no file descriptor and wakes only threads
//! sleeping on that one port. A process that waits on many ports at once
//! (a WaitSet) or in its own `poll`/`epoll` loop hands the daemon a wake
//! descriptor for the port instead, and *arms* the port: from then on every sender,
//! after its push, does
//!
//! ```text
//! armed != 0 && pending.swap(1) == 0  →  send(wake socket, 1 byte)
//! ```
//!
//! so one write stands for every push until the waiter clears `pending`.
//! The waiter clears `pending` before it re-checks the port's queue, then
//! sleeps in `poll` on the descriptor: a push after the clear sees `pending ==
//! 0` and writes; a push before it is found by the re-check (Dekker: each
//! side writes its word, `SeqCst`, then reads the other's).
//!
//! Both words are written by the port's owner *and* by its senders, that
//! is by processes that need not trust each other: a sender treats `armed`
//! as a hint (it asks the daemon for the fd, which refuses unless a port of
//! the sender is routed to this one; a refusal is cached), and a waiter
//! never trusts `pending` for anything but "maybe ready: look".
//!
//! Layout: `armed, pending: u32` (8 bytes, all zeros: not armed, nothing
//! pending), the same on every target.

use crate::sync::{AtomicU32, Ordering, fence};

/// A receiving port's wake-descriptor notification words (module docs).
///
/// ```
/// use zerocp_core::notify_word::NotifyWord;
/// # // SAFETY: atomics only, for which all zeros is valid.
/// let word: NotifyWord = unsafe { core::mem::zeroed() };
/// assert!(!word.is_armed());
/// word.arm();
/// assert!(word.is_armed());
/// assert!(word.mark_pending());   // the first sender signals the descriptor
/// assert!(!word.mark_pending());  // later ones do not
/// word.clear_pending();           // the waiter looks again
/// assert!(word.mark_pending());
/// ```
#[repr(C)]
pub struct NotifyWord {
    /// Non-zero: the owner gave the daemon a wake descriptor for this port.
    pub armed: AtomicU32,
    /// Non-zero: a sender signalled the descriptor since the waiter last looked.
    pub pending: AtomicU32,
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<NotifyWord>() == 8);

impl NotifyWord {
    /// Owner: marks the port armed (after the daemon took its descriptor).
    pub fn arm(&self) {
        // SeqCst: a sender that sees it also sees everything before (the
        // daemon's answer), and it orders with the owner's later checks.
        self.armed.store(1, Ordering::SeqCst);
    }

    /// Owner: the port no longer signals a descriptor.
    pub fn disarm(&self) {
        // SeqCst: see `arm`.
        self.armed.store(0, Ordering::SeqCst);
    }

    /// Whether the owner armed the port (a hint: any process of the group
    /// can write the word).
    pub fn is_armed(&self) -> bool {
        // Relaxed: the sender reads it after its SeqCst fence following
        // the push (Dekker with the waiter's clear, see the module docs).
        self.armed.load(Ordering::Relaxed) != 0
    }

    /// Sender, after its push and fence: whether it is the first since the
    /// waiter last looked, and so must signal the descriptor.
    pub fn mark_pending(&self) -> bool {
        // SeqCst: pairs with the waiter's clear before its re-check.
        self.pending.swap(1, Ordering::SeqCst) == 0
    }

    /// Waiter, before it re-checks the port: the next push signals the
    /// descriptor again. Ends with a `SeqCst` fence, so the caller's check of
    /// the queue that follows cannot be ordered before the clear.
    pub fn clear_pending(&self) {
        // SeqCst store and fence: the clear precedes the waiter's re-check
        // of the queue (the other half of the Dekker pair with the sender's
        // fence after its push and `mark_pending`); a store alone would let
        // the check's loads pass it.
        self.pending.store(0, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }
}
