//! Pause, resume, stop and steer: the commands a caller sends to a running pipeline,
//! checked between batches.
//!
//! Why a channel: the app's Stop must end a run within a batch (~25 ms) without
//! sharing any of the engine's state with the GUI thread. Steering (hand edits of the
//! clusters, new pairs) travels the same way: DEC takes it at its next P update, or at
//! once while the run is paused ([`Control::poll`]).

use std::cell::{Cell, RefCell};

use super::PipelineError;
pub use crate::engine::curation::steering::Steer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunState {
    Running,
    Paused,
    Stopped,
}

/// A command to a running pipeline.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Pause,
    Resume,
    Stop,
    /// A change to DEC's clusters or pairs ([`Steer`]); kept until DEC takes it.
    Steer(Box<Steer>),
}

/// What [`Control::poll`] found between two DEC steps.
#[derive(Debug, PartialEq)]
pub enum Poll {
    /// Train on.
    Go,
    /// The run has just been paused: show the live state, then poll again (which
    /// blocks until the next command).
    Paused,
    /// The run is paused and steering arrived: apply it now, then poll again.
    Steer,
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
    pub fn steer(&self, s: Steer) {
        self.send(Command::Steer(Box::new(s)));
    }
}

/// The receiving side, owned by the running pipeline and checked between batches.
/// `Control::default()` is never paused or stopped (the command line uses it).
#[derive(Debug)]
pub struct Control {
    rx: Option<crossbeam_channel::Receiver<Command>>,
    state: Cell<RunState>,
    /// Steering received and not yet taken by DEC, oldest first.
    pending: RefCell<Vec<Steer>>,
    /// Whether [`Control::poll`] has told DEC of the current pause.
    pause_told: Cell<bool>,
}

impl Default for Control {
    fn default() -> Self {
        Control::with(None)
    }
}

/// A connected controller and control.
pub fn control_channel() -> (Controller, Control) {
    let (tx, rx) = crossbeam_channel::unbounded();
    (Controller(tx), Control::with(Some(rx)))
}

impl Control {
    fn with(rx: Option<crossbeam_channel::Receiver<Command>>) -> Control {
        Control {
            rx,
            state: Cell::new(RunState::Running),
            pending: RefCell::new(Vec::new()),
            pause_told: Cell::new(false),
        }
    }

    fn apply(&self, c: Command) {
        if self.state.get() == RunState::Stopped {
            return;
        }
        let next = match c {
            Command::Pause => RunState::Paused,
            Command::Resume => RunState::Running,
            Command::Stop => RunState::Stopped,
            Command::Steer(s) => {
                self.pending.borrow_mut().push(*s);
                return;
            }
        };
        if next != RunState::Paused {
            self.pause_told.set(false);
        }
        self.state.set(next);
    }

    /// Apply the commands waiting in the channel (never blocks).
    fn drain(&self) {
        let Some(rx) = &self.rx else { return };
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
    }

    /// Block for the next command (the run is paused).
    fn wait(&self) {
        match self.rx.as_ref().map(|rx| rx.recv()) {
            Some(Ok(c)) => self.apply(c),
            _ => self.state.set(RunState::Stopped),
        }
    }

    fn stopped(&self) -> Result<(), PipelineError> {
        if self.state.get() == RunState::Stopped {
            Err(PipelineError::Stopped)
        } else {
            Ok(())
        }
    }

    /// Apply pending commands; block while paused; `Err(Stopped)` once stopped (or
    /// once the controller is gone, e.g. the window closed). Steering is kept for DEC.
    pub fn checkpoint(&self) -> Result<(), PipelineError> {
        self.drain();
        while self.state.get() == RunState::Paused {
            self.wait();
        }
        self.stopped()
    }

    /// DEC's checkpoint between two steps: like [`Control::checkpoint`], but a pause
    /// is reported once ([`Poll::Paused`]) and steering that arrives while paused
    /// wakes the run ([`Poll::Steer`]) so that it applies at once.
    pub fn poll(&self) -> Result<Poll, PipelineError> {
        self.drain();
        while self.state.get() == RunState::Paused {
            if !self.pause_told.replace(true) {
                return Ok(Poll::Paused);
            }
            if !self.pending.borrow().is_empty() {
                return Ok(Poll::Steer);
            }
            self.wait();
        }
        self.stopped().map(|()| Poll::Go)
    }

    /// The steering received so far, oldest first (DEC takes it at a P update).
    pub fn take_steering(&self) -> Vec<Steer> {
        std::mem::take(&mut *self.pending.borrow_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(cluster: usize) -> Steer {
        Steer::Edit(crate::engine::curation::edit::Edit::Name {
            cluster,
            name: Some("x".into()),
        })
    }

    /// While running, steering waits for DEC's next P update; while paused it wakes
    /// the run, after the pause itself has been reported once.
    #[test]
    fn steering_waits_while_running_and_wakes_a_paused_run() {
        let (ctl, c) = control_channel();
        ctl.steer(name(0));
        assert_eq!(c.poll().unwrap(), Poll::Go);
        assert_eq!(c.take_steering(), vec![name(0)]);
        assert!(c.take_steering().is_empty());
        ctl.pause();
        ctl.steer(name(1));
        assert_eq!(c.poll().unwrap(), Poll::Paused);
        assert_eq!(c.poll().unwrap(), Poll::Steer);
        assert_eq!(c.take_steering(), vec![name(1)]);
        ctl.resume();
        assert_eq!(c.poll().unwrap(), Poll::Go);
        // A second pause is reported again; Stop ends it.
        ctl.pause();
        assert_eq!(c.poll().unwrap(), Poll::Paused);
        ctl.stop();
        assert!(c.poll().is_err());
        assert!(c.checkpoint().is_err());
    }

    /// The plain checkpoint blocks through a pause and keeps steering for later.
    #[test]
    fn checkpoint_keeps_steering_for_dec() {
        let (ctl, c) = control_channel();
        ctl.pause();
        ctl.steer(name(2));
        ctl.resume();
        assert!(c.checkpoint().is_ok());
        assert_eq!(c.take_steering(), vec![name(2)]);
        drop(ctl);
        assert!(c.checkpoint().is_err(), "a gone controller stops the run");
    }
}
