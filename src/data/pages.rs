//! Where a data set's features live in memory: a speed detail of the loader, apart from it.

/// An empty vector with room for `len` values, for a data set's features. On Linux, when it
/// spans at least 4 MiB, the kernel is asked to back it with 2 MiB pages (transparent huge pages,
/// `madvise(MADV_HUGEPAGE)`; a hint, ignored where they are switched off). Why: each minibatch
/// copies 100 random rows of the 50 000 × 784 training images (313 MB in f64), and with 4 KiB pages
/// every row costs the processor page-table walks of its own; with 2 MiB pages the whole set needs
/// 150 translations. Measured on one thread (BENCHMARKS.md, session 11): about 3 % of an epoch at
/// d_h = 100, where the gather is a sixth of the time; within noise at d_h = 512.
pub(super) fn large_vec<F>(len: usize) -> Vec<F> {
    let v = Vec::with_capacity(len);
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 1 << 21;
        let (start, bytes) = (v.as_ptr() as usize, len * std::mem::size_of::<F>());
        // the 2 MiB-aligned part of the (still untouched) allocation
        let (first, last) = (start.next_multiple_of(HUGE), (start + bytes) / HUGE * HUGE);
        if bytes >= 2 * HUGE && last > first {
            // SAFETY: [first, last) lies inside the allocation `v` owns; MADV_HUGEPAGE changes
            // neither the contents nor the validity of that memory, only how the kernel backs it.
            // Its result is ignored: it fails only where transparent huge pages are unavailable.
            let _ = unsafe { libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_HUGEPAGE) };
        }
    }
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn large_vec_is_empty_with_the_room_asked_for() {
        let v = super::large_vec::<f64>(1 << 20);
        assert!(v.is_empty() && v.capacity() >= 1 << 20);
    }
}
