//! The slot's closed state: once a close succeeds, calls fail and close is a no-op.

use super::*;
use crate::PluginError;

#[derive(Default)]
struct Counter {
    closes: u32,
}

#[test]
fn calls_after_a_successful_close_fail_and_close_again_succeeds() {
    let slot: Slot<Counter> = Slot::new();
    unsafe {
        assert!(slot.open("sink").is_ok());
        assert_eq!(slot.close(|c| Err(PluginError::Io(format!("busy {}", c.closes)))), Err(PluginError::Io("busy 0".into())));
        // A failed close leaves the instance open.
        assert!(slot.open("sink").is_ok());
        assert_eq!(slot.close(|c| { c.closes += 1; Ok(()) }), Ok(()));
        assert_eq!(slot.open("sink").err(), Some(PluginError::Io("sink is closed".into())));
        assert_eq!(slot.close(|c| { c.closes += 1; Ok(()) }), Ok(()));
        assert_eq!(slot.get().closes, 1, "the plugin's close runs once");
    }
}
