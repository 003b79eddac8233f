//! Prefetch hints: ask the cache for a line before it is needed, so that
//! the misses of the data path overlap instead of waiting one after the
//! other.
//!
//! Receiving a sample reads lines that the publishing core wrote just
//! before (the chunk header, the payload's first line) and releasing it
//! writes another (the chunk's reference count). Each is a transfer from
//! the other core; issued as prefetches right after the queue hands the
//! index over, they travel together instead of one after the other. The
//! holder of a chunk's only reference also asks for the freelist lines its
//! release pushes (the pool's head, the chunk's link word), and a publish
//! ends by asking for the head its next loan pops.
//!
//! A prefetch is only a hint: it never faults, whatever the address, and
//! changes nothing a program can observe but time. Targets without an
//! instruction for it (and Miri) get a function that does nothing.

/// Hints that the line holding `ptr` will be read soon.
///
/// ```
/// let word = 7u64;
/// zerocp_core::prefetch::for_read((&raw const word).cast());
/// assert_eq!(word, 7);
/// ```
#[inline(always)]
pub fn for_read(ptr: *const u8) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: `prefetcht0` is a hint that never faults and changes no
    // architectural state, whatever the address.
    unsafe {
        core::arch::asm!("prefetcht0 [{0}]", in(reg) ptr, options(nostack, preserves_flags, readonly));
    }
    #[cfg(all(target_arch = "aarch64", not(miri)))]
    // SAFETY: `prfm` is a hint that never faults and changes no
    // architectural state, whatever the address.
    unsafe {
        core::arch::asm!("prfm pldl1keep, [{0}]", in(reg) ptr, options(nostack, preserves_flags, readonly));
    }
    #[cfg(all(target_arch = "arm", not(miri)))]
    // SAFETY: `pld` is a hint that never faults and changes no
    // architectural state, whatever the address.
    unsafe {
        core::arch::asm!("pld [{0}]", in(reg) ptr, options(nostack, preserves_flags, readonly));
    }
    #[cfg(any(
        miri,
        not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm"))
    ))]
    let _ = ptr;
}

/// Hints that the line holding `ptr` will be written soon: the line comes
/// owned, so the write needs no second transfer to take it from the other
/// cores' caches. Where the target has no such hint (32-bit Arm), a read
/// prefetch.
///
/// ```
/// let mut word = 7u64;
/// zerocp_core::prefetch::for_write((&raw mut word).cast());
/// word += 1;
/// assert_eq!(word, 8);
/// ```
#[inline(always)]
pub fn for_write(ptr: *const u8) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: `prefetchw` is a hint that never faults and changes no
    // architectural state, whatever the address (a processor without it
    // executes it as a no-op).
    unsafe {
        core::arch::asm!("prefetchw [{0}]", in(reg) ptr, options(nostack, preserves_flags, readonly));
    }
    #[cfg(all(target_arch = "aarch64", not(miri)))]
    // SAFETY: `prfm` is a hint that never faults and changes no
    // architectural state, whatever the address.
    unsafe {
        core::arch::asm!("prfm pstl1keep, [{0}]", in(reg) ptr, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(all(any(target_arch = "x86_64", target_arch = "aarch64"), not(miri))))]
    for_read(ptr);
}
