//! `aggregate/count_sum`: count records and sum a numeric field per group.
//!
//! The same plugin as the host's native `dataflare.builtin.count_sum` (read
//! its docstring for the rules). The accumulator is the canonical JSON
//! `{"<group>": {"count": n, "sum": s}, ...}`, so accumulators are
//! interchangeable between the native, Python, Rust and JS forms.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use dataflare_guest::json::{self, Value};
use dataflare_guest::{Aggregate, Config, ParamInfo, PluginError, PluginInfo, PluginKind, Record};

const BAD_ACC: &str = "accumulator is not valid";

/// group -> (count, sum)
type Groups = BTreeMap<String, (f64, f64)>;

#[derive(Default)]
pub struct CountSum {
    params: Option<(String, String)>,
}

fn decode(acc: &[u8]) -> Result<Groups, PluginError> {
    let bad = || PluginError::Serialization(BAD_ACC.to_string());
    let map = match json::parse(acc) {
        Ok(Value::Object(map)) => map,
        _ => return Err(bad()),
    };
    let mut groups = Groups::new();
    for (group, entry) in map {
        let (count, sum) = match &entry {
            Value::Object(e) => match (e.get("count"), e.get("sum")) {
                (Some(Value::Number(c)), Some(Value::Number(s))) => (*c, *s),
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        };
        groups.insert(group, (count, sum));
    }
    Ok(groups)
}

fn encode(groups: &Groups) -> Vec<u8> {
    let map = groups
        .iter()
        .map(|(g, (c, s))| {
            let mut entry = BTreeMap::new();
            entry.insert("count".to_string(), Value::Number(*c));
            entry.insert("sum".to_string(), Value::Number(*s));
            (g.clone(), Value::Object(entry))
        })
        .collect();
    json::canonical(&Value::Object(map))
}

impl CountSum {
    fn names(&self) -> Result<(&str, &str), PluginError> {
        match &self.params {
            Some((g, s)) => Ok((g, s)),
            None => Err(PluginError::Configuration(
                "plugin 'count_sum': parameter 'group_by' is not set".to_string(),
            )),
        }
    }

    /// Fold one record into `groups`; on error `groups` is unchanged.
    fn fold(&self, groups: &mut Groups, record: &Record) -> Result<(), PluginError> {
        let obj = json::parse_object(&record.value)?;
        let (group_by, sum_field) = self.names()?;
        let group = match obj.get(group_by) {
            None => return Err(PluginError::Processing(format!("missing field \"{}\"", group_by))),
            Some(Value::String(s)) => s.clone(),
            Some(other) => String::from_utf8(json::canonical(other)).unwrap_or_default(),
        };
        let number = match obj.get(sum_field) {
            None => {
                return Err(PluginError::Processing(format!("missing field \"{}\"", sum_field)))
            }
            Some(Value::Number(x)) => *x,
            Some(_) => {
                return Err(PluginError::Processing(format!(
                    "field \"{}\" is not a number",
                    sum_field
                )))
            }
        };
        let (count, total) = groups.get(&group).copied().unwrap_or((0.0, 0.0));
        let total = total + number;
        if !total.is_finite() {
            return Err(PluginError::Processing(format!(
                "sum of field \"{}\" overflows",
                sum_field
            )));
        }
        groups.insert(group, (count + 1.0, total));
        Ok(())
    }
}

impl Aggregate for CountSum {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new(
            "count_sum",
            "0.1.0",
            PluginKind::Aggregate,
            "Count records and sum a numeric field per group.",
        )
        .param(ParamInfo::required("group_by", "top-level key whose value names the group"))
        .param(ParamInfo::required("sum_field", "top-level key of the number to sum"))
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        let config = config.validate(&self.describe())?;
        let group_by = config.require("group_by")?.to_string();
        let sum_field = config.require("sum_field")?.to_string();
        self.params = Some((group_by, sum_field));
        Ok(())
    }

    fn init(&mut self) -> Vec<u8> {
        b"{}".to_vec()
    }

    fn aggregate(&mut self, acc: &[u8], record: &Record) -> Result<Vec<u8>, PluginError> {
        let mut groups = decode(acc)?;
        self.fold(&mut groups, record)?;
        Ok(encode(&groups))
    }

    /// Decodes and re-encodes the accumulator once per batch instead of per record.
    fn aggregate_batch(
        &mut self,
        acc: Vec<u8>,
        records: &[Record],
    ) -> (Vec<u8>, Vec<Result<(), PluginError>>) {
        let mut groups = match decode(&acc) {
            Ok(g) => g,
            Err(e) => return (acc, records.iter().map(|_| Err(e.clone())).collect()),
        };
        let outcomes: Vec<Result<(), PluginError>> =
            records.iter().map(|r| self.fold(&mut groups, r)).collect();
        if outcomes.iter().any(|o| o.is_ok()) {
            (encode(&groups), outcomes)
        } else {
            (acc, outcomes)
        }
    }

    fn emit(&mut self, acc: &[u8]) -> Result<Vec<Record>, PluginError> {
        let groups = decode(acc)?;
        Ok(json::utf16_order(groups.iter())
            .into_iter()
            .map(|(g, (c, s))| {
                let mut obj = BTreeMap::new();
                obj.insert("count".to_string(), Value::Number(*c));
                obj.insert("group".to_string(), Value::String(g.clone()));
                obj.insert("sum".to_string(), Value::Number(*s));
                Record {
                    key: Some(g.as_bytes().to_vec()),
                    value: json::canonical(&Value::Object(obj)),
                    timestamp: None,
                    metadata: Vec::new(),
                }
            })
            .collect())
    }
}

dataflare_guest::export_aggregate!(CountSum);

#[cfg(test)]
mod tests {
    use super::*;

    fn configured() -> CountSum {
        let mut a = CountSum::default();
        let pairs = vec![("group_by".into(), "g".into()), ("sum_field".into(), "n".into())];
        a.configure(Config::new(pairs)).unwrap();
        a
    }

    fn rec(v: &str) -> Record {
        Record::new(v.as_bytes().to_vec())
    }

    #[test]
    fn folds_groups_and_emits_in_canonical_order() {
        let mut a = configured();
        let recs = [
            rec(r#"{"g":"x","n":1.5}"#),
            rec(r#"{"g":1,"n":2}"#),
            rec(r#"{"g":"1","n":3}"#),
            rec(r#"{"g":"x","n":true}"#),
            rec(r#"{"n":1}"#),
            rec("nope"),
        ];
        let empty = a.init();
        let (acc, outcomes) = a.aggregate_batch(empty, &recs);
        assert_eq!(acc, br#"{"1":{"count":2,"sum":5},"x":{"count":1,"sum":1.5}}"#.to_vec());
        assert_eq!(outcomes[3], Err(PluginError::Processing("field \"n\" is not a number".into())));
        assert_eq!(outcomes[4], Err(PluginError::Processing("missing field \"g\"".into())));
        assert_eq!(outcomes[5], Err(PluginError::Serialization(json::INVALID_JSON.into())));
        // The single-record path gives the same accumulator.
        let mut single = a.init();
        for r in &recs {
            if let Ok(next) = a.aggregate(&single, r) {
                single = next;
            }
        }
        assert_eq!(single, acc);
        let out = a.emit(&acc).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].key, Some(b"1".to_vec()));
        assert_eq!(out[0].value, br#"{"count":2,"group":"1","sum":5}"#.to_vec());
    }

    #[test]
    fn overflow_and_bad_accumulators_fail() {
        let mut a = configured();
        let acc = a.aggregate(b"{}", &rec(r#"{"g":"x","n":1e308}"#)).unwrap();
        let err = a.aggregate(&acc, &rec(r#"{"g":"x","n":1e308}"#)).unwrap_err();
        assert_eq!(err, PluginError::Processing("sum of field \"n\" overflows".into()));
        for bad in [&b"[]"[..], b"{\"x\":{\"count\":1}}", b"{\"x\":1}", b""] {
            let err = a.aggregate(bad, &rec(r#"{"g":"x","n":1}"#)).unwrap_err();
            assert_eq!(err, PluginError::Serialization(BAD_ACC.into()));
        }
    }
}
