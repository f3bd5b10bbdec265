//! `decscope` with no subcommand: the desktop app.

use anyhow::Result;

use super::AppArgs;
#[cfg(feature = "gui")]
use super::{TabArg, project::ProjectMethod};

/// Open the desktop app.
#[cfg(feature = "gui")]
pub fn gui(a: AppArgs) -> Result<()> {
    let AppArgs {
        data,
        load,
        autostart,
        exit_after,
        view,
        tab,
        sweep_k,
        stop_after,
        precision,
    } = a;
    let opts = load.options();
    let sweep_k = sweep_k
        .as_deref()
        .map(decscope::engine::sweep::parse_ks)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--sweep-k {e}"))?;
    let mut app = match &data {
        Some(p) => decscope::app::DecApp::new(decscope::data::load(p, &opts)?),
        None => decscope::app::DecApp::with_default_dataset(),
    };
    app.load.set(
        load.labels.clone(),
        &load.label_col,
        load.preprocess,
        load.image_shape,
    );
    if let Some(p) = precision {
        app.settings.cfg.precision = p;
    }
    app.load.text_col = load.text_col.clone().unwrap_or_default();
    app.load.features = load.features;
    app.load.missing = load.missing;
    app.load.retain_min = load
        .retain_min
        .first()
        .map(|r| r.to_string())
        .unwrap_or_default();
    decscope::app::window::run_window(app, move |app, ctx| {
        app.exit_after = exit_after.map(|s| (std::time::Instant::now(), s));
        use decscope::app::Tab;
        app.tab = match tab {
            Some(TabArg::Curves) => Tab::Curves,
            Some(TabArg::Clusters) => Tab::Clusters,
            Some(TabArg::Confusion) => Tab::Confusion,
            Some(TabArg::Gradient) => Tab::Gradient,
            Some(TabArg::ChooseK) => Tab::ChooseK,
            Some(TabArg::Compare) => Tab::Compare,
            _ => Tab::Embedding,
        };
        if let Some(ks) = sweep_k {
            app.sweep.from = ks.iter().copied().min().unwrap_or(2);
            app.sweep.to = ks.iter().copied().max().unwrap_or(2);
        }
        app.stop_after = stop_after.map(|s| (std::time::Instant::now(), s));
        if autostart && app.tab == Tab::ChooseK {
            app.start_sweep(ctx);
        } else if autostart {
            app.start(ctx);
        }
        if view == Some(ProjectMethod::Tsne) {
            app.set_method(decscope::app::Method::Tsne);
        }
    })
    .map_err(|e| {
        anyhow::anyhow!(
            "could not open the window: {e}. Is a display available (DISPLAY or WAYLAND_DISPLAY)?"
        )
    })
}

#[cfg(not(feature = "gui"))]
pub fn gui(_: AppArgs) -> Result<()> {
    anyhow::bail!(
        "this decscope was built without the desktop app (feature `gui`); use `decscope train --help`"
    )
}
