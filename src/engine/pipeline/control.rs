//! Pause, resume and stop: the commands a caller sends to a running pipeline, checked
//! between batches.
//!
//! Why a channel: the app's Stop must end a run within a batch (~25 ms) without
//! sharing any of the engine's state with the GUI thread.

use super::PipelineError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunState {
    Running,
    Paused,
    Stopped,
}

/// A command to a running pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Pause,
    Resume,
    Stop,
}

/// The sending side of a pipeline's command channel, held by the GUI (cheap to clone).
#[derive(Clone, Debug)]
pub struct Controller(crossbeam_channel::Sender<Command>);

impl Controller {
    pub fn send(&self, c: Command) {
        // The pipeline may have finished already; then there is nothing to control.
        let _ = self.0.send(c);
    }
    pub fn pause(&self) {
        self.send(Command::Pause);
    }
    pub fn resume(&self) {
        self.send(Command::Resume);
    }
    pub fn stop(&self) {
        self.send(Command::Stop);
    }
}

/// The receiving side, owned by the running pipeline and checked between batches.
/// `Control::default()` is never paused or stopped (the command line uses it).
#[derive(Debug)]
pub struct Control {
    rx: Option<crossbeam_channel::Receiver<Command>>,
    state: std::cell::Cell<RunState>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            rx: None,
            state: std::cell::Cell::new(RunState::Running),
        }
    }
}

/// A connected controller and control.
pub fn control_channel() -> (Controller, Control) {
    let (tx, rx) = crossbeam_channel::unbounded();
    (
        Controller(tx),
        Control {
            rx: Some(rx),
            state: std::cell::Cell::new(RunState::Running),
        },
    )
}

impl Control {
    fn apply(&self, c: Command) {
        if self.state.get() == RunState::Stopped {
            return;
        }
        self.state.set(match c {
            Command::Pause => RunState::Paused,
            Command::Resume => RunState::Running,
            Command::Stop => RunState::Stopped,
        });
    }

    /// Apply pending commands; block while paused; `Err(Stopped)` once stopped (or
    /// once the controller is gone, e.g. the window closed).
    pub fn checkpoint(&self) -> Result<(), PipelineError> {
        if let Some(rx) = &self.rx {
            loop {
                match rx.try_recv() {
                    Ok(c) => self.apply(c),
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => {
                        self.state.set(RunState::Stopped);
                        break;
                    }
                }
            }
            while self.state.get() == RunState::Paused {
                match rx.recv() {
                    Ok(c) => self.apply(c),
                    Err(_) => self.state.set(RunState::Stopped),
                }
            }
        }
        if self.state.get() == RunState::Stopped {
            Err(PipelineError::Stopped)
        } else {
            Ok(())
        }
    }
}
