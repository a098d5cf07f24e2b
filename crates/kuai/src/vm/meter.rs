//! Fuel and epochs: the store's metering state.

use crate::trap::Trap;

/// A store's fuel and epoch deadline. Function entries are charged and checked by
/// the call itself (no instruction needed); runs and loop heads by `ConsumeFuel` and
/// `CheckEpoch` instructions.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    /// Fuel left (with `Config::consume_fuel`).
    pub fuel: u64,
    /// The engine's epoch counter (with `Config::epoch_interruption`).
    pub epoch: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// The epoch at which running code traps with "interrupt".
    pub epoch_deadline: u64,
}

impl Meter {
    pub(crate) fn new(config: &crate::Config, epoch: &std::sync::Arc<std::sync::atomic::AtomicU64>) -> Meter {
        Meter { fuel: 0, epoch: config.epoch_interruption.then(|| epoch.clone()), epoch_deadline: u64::MAX }
    }

    /// Charges `amount` fuel, or traps (charging nothing) if less is left.
    #[inline]
    pub(crate) fn consume(&mut self, amount: u32) -> Result<(), Trap> {
        self.fuel = self.fuel.checked_sub(amount as u64).ok_or(Trap::OutOfFuel)?;
        Ok(())
    }

    /// Traps with "interrupt" if the epoch has reached the deadline.
    #[inline]
    pub(crate) fn check_epoch(&self) -> Result<(), Trap> {
        match &self.epoch {
            Some(epoch) if epoch.load(std::sync::atomic::Ordering::Relaxed) >= self.epoch_deadline => {
                Err(Trap::Interrupt)
            }
            _ => Ok(()),
        }
    }
}
