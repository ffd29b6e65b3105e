//! `{{name}}`: counts records per group, the group being the JSON field named by `group_by`.
//!
//! The accumulator is the JSON object `{group: count}`; `emit` gives one
//! record per group, in code-point order of the group's name.
use std::collections::BTreeMap;

use dataflare_guest::json::{self, Value};
use dataflare_guest::{Aggregate, Batch, BatchBuilder, Config, PluginError, PluginInfo, RecordView};

#[derive(Default)]
pub struct {{Name}} {
    group_by: String,
}

/// Group name -> count; a `BTreeMap` keeps the names in code-point order.
type Counts = BTreeMap<String, u64>;

fn decode(acc: &[u8]) -> Result<Counts, PluginError> {
    let bad = || PluginError::Serialization("accumulator is not a JSON object of counts".to_string());
    let mut counts = Counts::new();
    for (group, count) in json::parse_object(acc).map_err(|_| bad())? {
        let n = count.as_f64().filter(|n| *n >= 0.0 && n.fract() == 0.0).ok_or_else(bad)?;
        counts.insert(group, n as u64);
    }
    Ok(counts)
}

fn encode(counts: &Counts) -> Vec<u8> {
    json::to_vec(counts.iter().map(|(g, n)| (g.clone(), Value::from(*n))).collect::<json::Object>())
}

impl Aggregate for {{Name}} {
    fn describe(&self) -> PluginInfo {
        PluginInfo::aggregate("{{name}}").optional("group_by", "region", "the JSON field whose value names the group")
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        config.validate(&self.describe())?.parse_into("group_by", &mut self.group_by)
    }

    fn init(&mut self) -> Vec<u8> {
        b"{}".to_vec()
    }

    fn aggregate(&mut self, acc: &[u8], record: RecordView<'_>) -> Result<Vec<u8>, PluginError> {
        let object = record.json()?;
        let field = object.get(&self.group_by).ok_or_else(|| {
            PluginError::Processing(format!("missing field \"{}\"", self.group_by))
        })?;
        let group = match field {
            Value::String(s) => s.clone(),
            other => other.to_json(),
        };
        let mut counts = decode(acc)?;
        *counts.entry(group).or_insert(0) += 1;
        Ok(encode(&counts))
    }

    fn merge(&mut self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, PluginError> {
        let mut counts = decode(a)?;
        for (group, n) in decode(b)? {
            *counts.entry(group).or_insert(0) += n;
        }
        Ok(encode(&counts))
    }

    fn emit(&mut self, acc: &[u8]) -> Result<Batch, PluginError> {
        let mut out = BatchBuilder::new();
        for (group, n) in decode(acc)? {
            let value = json::object([("group", Value::from(group.as_str())), ("count", Value::from(n))]);
            out.push_parts(Some(group.as_bytes()), &json::to_vec(value), None, std::iter::empty());
        }
        Ok(out.finish())
    }
}

dataflare_guest::export_aggregate!({{Name}});
