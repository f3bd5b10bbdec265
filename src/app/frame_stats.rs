//! Frame-time statistics as one line: what `--exit-after` prints and the speed figures
//! of the app are read from, so a slow frame shows in numbers and not only to the eye.

use std::collections::VecDeque;

use super::DecApp;

impl DecApp {
    /// Frame-time statistics (from eframe's per-frame CPU time) as one line.
    pub fn frame_stats(&self) -> String {
        let v = &self.frame_cpu_ms;
        let line = match (percentile(v, 0.5), percentile(v, 0.95), percentile(v, 1.0)) {
            (Some(a), Some(b), Some(c)) => format!(
                "frames {}: frame time p50 {a:.2} ms, p95 {b:.2} ms, max {c:.2} ms; points drawn {}; phase {:?} step {} of {}; snapshots {}",
                v.len(),
                self.ds.n,
                self.run.phase,
                self.run.step,
                self.run.total,
                self.run.snapshots_seen
            ),
            _ => "too few frames to measure".into(),
        };
        // The wall time between frames, rendering and presenting included (what a
        // user sees; eframe's CPU time above leaves out work a renderer defers).
        match (
            percentile(&self.frame_ms, 0.5),
            percentile(&self.frame_ms, 0.95),
        ) {
            (Some(a), Some(b)) => {
                format!("{line}; interval between frames (last 600) p50 {a:.1} ms, p95 {b:.1} ms")
            }
            _ => line,
        }
    }
}

pub(super) fn percentile(v: &VecDeque<f32>, q: f64) -> Option<f32> {
    if v.len() < 10 {
        return None;
    }
    let mut s: Vec<f32> = v.iter().copied().collect();
    s.sort_by(f32::total_cmp);
    Some(s[((s.len() - 1) as f64 * q) as usize])
}
