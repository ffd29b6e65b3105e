//! `source/gen_source`: generate records deterministically from params.
//!
//! Parameters: `count` (default `10`), how many records in all; `seed`
//! (default `0`). Record `i` depends only on `(seed, i)`: its key is `i` in
//! decimal, its value the canonical JSON
//! `{"amount":A,"email":"userN@example.com","id":i,"status":S,"user":"userN"}`,
//! its timestamp `1700000000000 + 1000 * i`, and its metadata
//! `[("source", "gen_source")]`. The position is the index of the next
//! record as 8 little-endian bytes, so `checkpoint`/`restore` resume exactly.
//! `pad` (default `0`) adds a `"pad"` field of that many `x` to every value,
//! for tests and benchmarks that need big records. `pending_every` (default
//! `0`, never) makes `read` answer `pending` once after every that many
//! batches of records, so hosts can be tested on a source that must wait;
//! after the last record `read` answers `end`. `partition` and `partitions`
//! (defaults `0` and `1`; the Dask engine sets them) make it generate only
//! its share: records `count*p/N` up to `count*(p+1)/N`.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use dataflare_guest::json::{self, Value};
use dataflare_guest::{
    BatchBuilder, Config, ParamInfo, PluginError, PluginInfo, PluginKind, ReadOutcome, Record, Source,
};

const STATUSES: [&str; 3] = ["active", "inactive", "pending"];

#[derive(Default)]
pub struct GenSource {
    count: u64,
    seed: u64,
    pad: u64,
    pending_every: u64,
    /// Batches of records returned since the last `pending`.
    since_pending: u64,
    next: u64,
    /// One past the last record of this partition.
    end: u64,
    connected: bool,
    closed: bool,
}

/// SplitMix64: a tiny, well-mixed PRNG step; record `i` uses `mix(seed + i)`.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Record number `i` for `seed`, its value padded by `pad` bytes.
pub fn record(seed: u64, i: u64, pad: u64) -> Record {
    let r = mix(seed.wrapping_mul(0x1000_0000_01B3).wrapping_add(i));
    let user = format!("user{}", r % 1000);
    let mut obj = BTreeMap::new();
    obj.insert("id".to_string(), Value::Number(i as f64));
    obj.insert("user".to_string(), Value::String(user.clone()));
    obj.insert("email".to_string(), Value::String(format!("{}@example.com", user)));
    obj.insert("status".to_string(), Value::String(STATUSES[((r >> 10) % 3) as usize].to_string()));
    obj.insert("amount".to_string(), Value::Number(((r >> 20) % 100_000) as f64 / 100.0));
    if pad > 0 {
        obj.insert("pad".to_string(), Value::String("x".repeat(pad as usize)));
    }
    Record {
        key: Some(i.to_string().into_bytes()),
        value: json::canonical(&Value::Object(obj)),
        timestamp: Some(1_700_000_000_000 + 1000 * i as i64),
        metadata: vec![("source".to_string(), "gen_source".to_string())],
    }
}

fn number(config: &Config, name: &str) -> Result<u64, PluginError> {
    let text = config.require(name)?;
    text.parse::<u64>().map_err(|_| {
        PluginError::Configuration(format!(
            "plugin 'gen_source': {} must be a non-negative integer; got '{}'",
            name, text
        ))
    })
}

impl GenSource {
    fn ready(&self) -> Result<(), PluginError> {
        if self.closed {
            Err(PluginError::Io("source is closed".to_string()))
        } else if !self.connected {
            Err(PluginError::Io("source is not connected".to_string()))
        } else {
            Ok(())
        }
    }
}

impl Source for GenSource {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new(
            "gen_source",
            "0.1.0",
            PluginKind::Source,
            "Generate records deterministically from a count and a seed.",
        )
        .param(ParamInfo::optional("count", "how many records to generate", Some("10")))
        .param(ParamInfo::optional("seed", "varies the generated values", Some("0")))
        .param(ParamInfo::optional("pad", "bytes of padding added to each value", Some("0")))
        .param(ParamInfo::optional(
            "pending_every",
            "answer pending once after every this many batches (0: never)",
            Some("0"),
        ))
        .param(ParamInfo::optional("partition", "which share to generate (from 0)", None))
        .param(ParamInfo::optional("partitions", "how many shares there are", Some("1")))
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        let config = config.validate(&self.describe())?;
        self.count = number(&config, "count")?;
        self.seed = number(&config, "seed")?;
        self.pad = number(&config, "pad")?;
        self.pending_every = number(&config, "pending_every")?;
        let (part, parts) = match config.get("partition") {
            Some(_) => (number(&config, "partition")?, number(&config, "partitions")?),
            None => (0, 1),
        };
        if parts == 0 || part >= parts {
            return Err(PluginError::Configuration(format!(
                "plugin 'gen_source': partition must be below partitions; got {} of {}",
                part, parts
            )));
        }
        let share = |p: u64| ((self.count as u128 * p as u128) / parts as u128) as u64;
        self.since_pending = 0;
        self.next = share(part);
        self.end = share(part + 1);
        Ok(())
    }

    fn connect(&mut self) -> Result<(), PluginError> {
        if self.closed {
            return Err(PluginError::Io("source is closed".to_string()));
        }
        self.connected = true;
        Ok(())
    }

    fn read(&mut self, max: u32) -> Result<ReadOutcome, PluginError> {
        self.ready()?;
        if self.next >= self.end {
            return Ok(ReadOutcome::End);
        }
        if max == 0 || (self.pending_every > 0 && self.since_pending >= self.pending_every) {
            self.since_pending = 0;
            return Ok(ReadOutcome::Pending);
        }
        let end = self.end.min(self.next.saturating_add(max as u64));
        let mut out = BatchBuilder::new();
        for i in self.next..end {
            out.push(&record(self.seed, i, self.pad));
        }
        self.next = end;
        self.since_pending += 1;
        Ok(ReadOutcome::Records(out.finish()))
    }

    fn checkpoint(&mut self) -> Result<Vec<u8>, PluginError> {
        self.ready()?;
        Ok(self.next.to_le_bytes().to_vec())
    }

    fn restore(&mut self, position: &[u8]) -> Result<(), PluginError> {
        self.ready()?;
        let bytes: [u8; 8] = position.try_into().map_err(|_| {
            PluginError::Serialization(format!(
                "position must be 8 bytes (from checkpoint); got {}",
                position.len()
            ))
        })?;
        self.next = u64::from_le_bytes(bytes).min(self.end);
        Ok(())
    }

    fn close(&mut self) -> Result<(), PluginError> {
        self.closed = true;
        self.connected = false;
        Ok(())
    }
}

dataflare_guest::export_source!(GenSource);

#[cfg(test)]
mod tests {
    use super::*;
    use dataflare_guest::Batch;

    fn source(pairs: &[(&str, &str)]) -> GenSource {
        let mut s = GenSource::default();
        let pairs = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        s.configure(Config::new(pairs)).unwrap();
        s.connect().unwrap();
        s
    }

    fn records(outcome: ReadOutcome) -> Batch {
        match outcome {
            ReadOutcome::Records(b) => b,
            other => panic!("expected records, got {:?}", other),
        }
    }

    #[test]
    fn reads_count_records_then_ends() {
        let mut s = source(&[("count", "5"), ("seed", "7")]);
        let a = records(s.read(3).unwrap());
        let b = records(s.read(3).unwrap());
        assert_eq!((a.len(), b.len()), (3, 2));
        assert_eq!(s.read(3).unwrap(), ReadOutcome::End);
        assert_eq!(a.record(1).to_record(), record(7, 1, 0));
        assert_eq!(Batch::from_records(&[record(7, 1, 0)]).record(0).to_record(), record(7, 1, 0));
        assert_ne!(record(7, 1, 0), record(8, 1, 0));
        assert!(json::parse(a.record(0).value).is_ok());
        assert_eq!(source(&[("count", "0")]).read(3).unwrap(), ReadOutcome::End);
    }

    #[test]
    fn a_partition_generates_only_its_share() {
        let whole = records(source(&[("count", "10"), ("partitions", "3")]).read(100).unwrap());
        assert_eq!(whole.len(), 10);
        let mut s = source(&[("count", "10"), ("partition", "1"), ("partitions", "3")]);
        let a = records(s.read(100).unwrap());
        assert_eq!(a.len(), 3);
        assert_eq!(a.record(0).to_record(), record(0, 3, 0));
        assert_eq!(s.read(1).unwrap(), ReadOutcome::End);
        let mut bad = GenSource::default();
        let pairs = vec![("partition".to_string(), "3".to_string()), ("partitions".to_string(), "3".to_string())];
        assert!(bad.configure(Config::new(pairs)).is_err());
    }

    #[test]
    fn pending_every_waits_between_batches() {
        let mut s = source(&[("count", "5"), ("pending_every", "2")]);
        let mut seen = Vec::new();
        loop {
            match s.read(2).unwrap() {
                ReadOutcome::Records(b) => seen.push(b.len()),
                ReadOutcome::Pending => seen.push(0),
                ReadOutcome::End => break,
            }
        }
        assert_eq!(seen, vec![2, 2, 0, 1]);
        let mut never = source(&[("count", "3")]);
        assert_eq!(records(never.read(1).unwrap()).len(), 1);
        assert_eq!(records(never.read(1).unwrap()).len(), 1);
    }

    #[test]
    fn restore_resumes_after_the_checkpoint() {
        let mut s = source(&[("count", "100"), ("seed", "1")]);
        s.read(10).unwrap();
        let pos = s.checkpoint().unwrap();
        let rest = s.read(100).unwrap();
        s.restore(&pos).unwrap();
        assert_eq!(s.read(100).unwrap(), rest);
        assert!(matches!(s.restore(b"xx"), Err(PluginError::Serialization(_))));
        s.close().unwrap();
        assert_eq!(s.read(1), Err(PluginError::Io("source is closed".into())));
    }

    #[test]
    fn bad_params_are_configuration_errors() {
        let mut s = GenSource::default();
        let err = s.configure(Config::new(vec![("count".into(), "-1".into())])).unwrap_err();
        assert!(matches!(err, PluginError::Configuration(_)));
        let err = s.configure(Config::new(vec![("pending_every".into(), "x".into())])).unwrap_err();
        assert!(matches!(err, PluginError::Configuration(_)));
    }
}
