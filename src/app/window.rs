//! The native window around [`DecApp`], as the `decscope` binary and Python's
//! `decscope.show` open it.
//!
//! Why here: both open the same window with the same size and title, and block until it
//! closes; only what happens at start differs (`setup`).

use super::DecApp;

/// The window's inner size at start, in points.
pub const DEFAULT_SIZE: [f32; 2] = [1280.0, 820.0];

/// Open `app` in a native window and block until the user closes it. `setup` runs once,
/// with the window's context, before the first frame (start a run, pick a tab). Fails
/// when no window can be opened (no display).
pub fn run_window(
    app: DecApp,
    setup: impl FnOnce(&mut DecApp, &egui::Context) + 'static,
) -> Result<(), eframe::Error> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size(DEFAULT_SIZE)
            .with_title("decscope: Deep Embedded Clustering"),
        ..Default::default()
    };
    let mut app = app;
    eframe::run_native(
        "decscope",
        options,
        Box::new(move |cc| {
            setup(&mut app, &cc.egui_ctx);
            Ok(Box::new(app))
        }),
    )
}
