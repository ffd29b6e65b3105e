//! Broken: a counting source whose `restore` accepts a position but ignores it. Check: lifecycle.
use dataflare_guest::{Batch, Config, PluginError, PluginInfo, PluginKind, ReadOutcome, Record, Source};

#[derive(Default)]
pub struct BadRestore {
    next: u64,
    open: bool,
}

impl BadRestore {
    fn opened(&self) -> Result<(), PluginError> {
        if self.open {
            Ok(())
        } else {
            Err(PluginError::Io("source is not open".into()))
        }
    }
}

impl Source for BadRestore {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("bad_restore", "0.1.0", PluginKind::Source, "counts forever")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn connect(&mut self) -> Result<(), PluginError> {
        self.open = true;
        Ok(())
    }
    fn read(&mut self, max: u32) -> Result<ReadOutcome, PluginError> {
        self.opened()?;
        if max == 0 {
            return Ok(ReadOutcome::Pending);
        }
        let first = self.next;
        self.next += u64::from(max.min(100));
        let records: Vec<Record> =
            (first..self.next).map(|i| Record::new(i.to_string().into_bytes())).collect();
        Ok(ReadOutcome::Records(Batch::from_records(&records)))
    }
    fn checkpoint(&mut self) -> Result<Vec<u8>, PluginError> {
        self.opened()?;
        Ok(self.next.to_le_bytes().to_vec())
    }
    fn restore(&mut self, _position: &[u8]) -> Result<(), PluginError> {
        // The bug: claims to resume, but keeps reading from where it is.
        self.opened()
    }
    fn close(&mut self) -> Result<(), PluginError> {
        self.opened()?;
        self.open = false;
        Ok(())
    }
}

dataflare_guest::export_source!(BadRestore);
