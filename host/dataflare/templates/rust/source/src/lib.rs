//! `{{name}}`: produces `count` records, `{"n": n}` keyed by `n`, for n = 0..count-1.
//!
//! The checkpoint is the decimal text of the next `n`. `connect` and `close`
//! are the SDK's defaults (nothing to open; calls after close fail).
use dataflare_guest::json::{self, Value};
use dataflare_guest::{Batch, Config, PluginError, PluginInfo, ReadOutcome, Record, Source};

#[derive(Default)]
pub struct {{Name}} {
    count: u64,
    next: u64,
}

impl Source for {{Name}} {
    fn describe(&self) -> PluginInfo {
        PluginInfo::source("{{name}}").optional("count", "5", "how many records to produce")
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        config.validate(&self.describe())?.parse_into("count", &mut self.count)
    }

    fn read(&mut self, max: u32) -> Result<ReadOutcome, PluginError> {
        if self.next >= self.count {
            return Ok(ReadOutcome::End);
        }
        if max == 0 {
            return Ok(ReadOutcome::Pending); // records must hold at least one
        }
        let end = self.count.min(self.next.saturating_add(u64::from(max)));
        let records: Vec<Record> = (self.next..end)
            .map(|n| Record::keyed(n.to_string(), json::to_vec(json::object([("n", Value::from(n))]))))
            .collect();
        self.next = end;
        Ok(ReadOutcome::Records(Batch::from_records(&records)))
    }

    fn checkpoint(&mut self) -> Result<Vec<u8>, PluginError> {
        Ok(self.next.to_string().into_bytes())
    }

    fn restore(&mut self, position: &[u8]) -> Result<(), PluginError> {
        let text = std::str::from_utf8(position).unwrap_or("");
        self.next = text.parse().map_err(|_| {
            PluginError::Serialization(format!("position {:?} is not a record number", text))
        })?;
        Ok(())
    }
}

dataflare_guest::export_source!({{Name}});
