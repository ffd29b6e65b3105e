//! `aggregate/count_sum`: count records and sum a numeric field per group.
//!
//! The same plugin as the host's native `dataflare.builtin.count_sum` (read
//! its docstring for the rules), plus `merge`. The accumulator is the
//! canonical JSON `{"<group>": {"count": n, "sum": s}, ...}`, so accumulators
//! are interchangeable between the native, Python, Rust and JS forms.
//!
//! Mergeable sums: floating-point addition is not associative, so a sum
//! folded in two parts and merged could differ from one fold in the last
//! bits. Each group therefore keeps its sum exactly, as Shewchuk's
//! non-overlapping partials (the algorithm behind Python's `math.fsum`), and
//! `sum` is that exact sum correctly rounded. When the exact sum is not one
//! double, the entry also holds `"partials": [...]` (smallest magnitude
//! first); an entry without `partials` stands for exactly `sum`, so
//! accumulators of exact sums are byte-for-byte the 0.1 encoding.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use dataflare_guest::json::{self, Value};
use dataflare_guest::{
    Aggregate, Batch, BatchBuilder, Config, FoldOutcome, ParamInfo, PluginError, PluginInfo,
    PluginKind, RecordError, RecordView,
};

const BAD_ACC: &str = "accumulator is not valid";

/// One group: how many records, and their sum as exact partials.
#[derive(Clone, Debug, Default, PartialEq)]
struct Group {
    count: f64,
    partials: Vec<f64>,
}

type Groups = BTreeMap<String, Group>;

/// Add `x` to the exact sum held in `partials` (Shewchuk's grow-expansion,
/// as in the `msum` recipe of `math.fsum`); `false` if a partial overflows.
pub fn add_exact(partials: &mut Vec<f64>, x: f64) -> bool {
    let mut x = x;
    let mut kept = 0;
    for j in 0..partials.len() {
        let mut y = partials[j];
        if x.abs() < y.abs() {
            std::mem::swap(&mut x, &mut y);
        }
        let hi = x + y;
        let lo = y - (hi - x);
        if lo != 0.0 {
            partials[kept] = lo;
            kept += 1;
        }
        x = hi;
    }
    partials.truncate(kept);
    partials.push(x);
    partials.iter().all(|p| p.is_finite())
}

/// The exact sum of `partials`, correctly rounded (CPython's `fsum` final step).
pub fn round_exact(partials: &[f64]) -> f64 {
    let mut n = partials.len();
    if n == 0 {
        return 0.0;
    }
    n -= 1;
    let mut hi = partials[n];
    let mut lo = 0.0;
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = partials[n];
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    // Round half to even across the dropped partials.
    if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        let yr = x - hi;
        if y == yr {
            hi = x;
        }
    }
    hi
}

#[derive(Default)]
pub struct CountSum {
    params: Option<(String, String)>,
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v {
        Some(Value::Number(x)) => Some(*x),
        _ => None,
    }
}

fn decode(acc: &[u8]) -> Result<Groups, PluginError> {
    let bad = || PluginError::Serialization(BAD_ACC.to_string());
    let map = match json::parse(acc) {
        Ok(Value::Object(map)) => map,
        _ => return Err(bad()),
    };
    let mut groups = Groups::new();
    for (name, entry) in map {
        let e = match &entry {
            Value::Object(e) => e,
            _ => return Err(bad()),
        };
        let (count, sum) = match (number(e.get("count")), number(e.get("sum"))) {
            (Some(c), Some(s)) => (c, s),
            _ => return Err(bad()),
        };
        let partials = match e.get("partials") {
            None => vec![sum],
            Some(Value::Array(items)) => {
                let parts: Option<Vec<f64>> = items.iter().map(|p| number(Some(p))).collect();
                parts.ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        if round_exact(&partials) != sum {
            return Err(bad());
        }
        groups.insert(name, Group { count, partials });
    }
    Ok(groups)
}

fn encode(groups: &Groups) -> Vec<u8> {
    let map = groups
        .iter()
        .map(|(name, g)| {
            let mut entry = BTreeMap::new();
            entry.insert("count".to_string(), Value::Number(g.count));
            entry.insert("sum".to_string(), Value::Number(round_exact(&g.partials)));
            let nonzero: Vec<Value> =
                g.partials.iter().filter(|p| **p != 0.0).map(|p| Value::Number(*p)).collect();
            if nonzero.len() > 1 {
                entry.insert("partials".to_string(), Value::Array(nonzero));
            }
            (name.clone(), Value::Object(entry))
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
    fn fold(&self, groups: &mut Groups, record: RecordView<'_>) -> Result<(), PluginError> {
        let obj = json::parse_object(record.value)?;
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
        let mut next = groups.get(&group).cloned().unwrap_or_default();
        if !add_exact(&mut next.partials, number) || !round_exact(&next.partials).is_finite() {
            return Err(self.overflow());
        }
        next.count += 1.0;
        groups.insert(group, next);
        Ok(())
    }

    fn overflow(&self) -> PluginError {
        let field = self.params.as_ref().map_or("", |(_, s)| s.as_str());
        PluginError::Processing(format!("sum of field \"{}\" overflows", field))
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

    fn aggregate(&mut self, acc: &[u8], record: RecordView<'_>) -> Result<Vec<u8>, PluginError> {
        let mut groups = decode(acc)?;
        self.fold(&mut groups, record)?;
        Ok(encode(&groups))
    }

    /// Decodes and re-encodes the accumulator once per batch instead of per record.
    fn aggregate_batch(&mut self, acc: Vec<u8>, batch: &Batch) -> FoldOutcome {
        let mut groups = match decode(&acc) {
            Ok(g) => g,
            Err(e) => {
                return FoldOutcome { accumulator: acc, errors: dataflare_guest::fail_all(batch.len(), &e) }
            }
        };
        let mut errors = Vec::new();
        for (i, record) in batch.records().enumerate() {
            if let Err(error) = self.fold(&mut groups, record) {
                errors.push(RecordError { index: i as u32, error });
            }
        }
        if errors.len() < batch.len() {
            FoldOutcome { accumulator: encode(&groups), errors }
        } else {
            FoldOutcome { accumulator: acc, errors }
        }
    }

    /// Counts add up; sums add exactly (partials), so the merge is what one fold gives.
    fn merge(&mut self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, PluginError> {
        let mut groups = decode(a)?;
        for (name, g) in decode(b)? {
            let into = groups.entry(name).or_default();
            into.count += g.count;
            for p in g.partials {
                if !add_exact(&mut into.partials, p) {
                    return Err(self.overflow());
                }
            }
            if !round_exact(&into.partials).is_finite() {
                return Err(self.overflow());
            }
        }
        Ok(encode(&groups))
    }

    fn emit(&mut self, acc: &[u8]) -> Result<Batch, PluginError> {
        let groups = decode(acc)?;
        let mut out = BatchBuilder::new();
        for (name, g) in json::utf16_order(groups.iter()) {
            let mut obj = BTreeMap::new();
            obj.insert("count".to_string(), Value::Number(g.count));
            obj.insert("group".to_string(), Value::String(name.clone()));
            obj.insert("sum".to_string(), Value::Number(round_exact(&g.partials)));
            let value = json::canonical(&Value::Object(obj));
            out.push_parts(Some(name.as_bytes()), &value, None, std::iter::empty());
        }
        Ok(out.finish())
    }
}

dataflare_guest::export_aggregate!(CountSum);

#[cfg(test)]
mod tests {
    use super::*;
    use dataflare_guest::Record;

    fn configured() -> CountSum {
        let mut a = CountSum::default();
        let pairs = vec![("group_by".into(), "g".into()), ("sum_field".into(), "n".into())];
        a.configure(Config::new(pairs)).unwrap();
        a
    }

    fn rec(v: &str) -> Record {
        Record::new(v.as_bytes().to_vec())
    }

    fn fold_all(a: &mut CountSum, recs: &[Record]) -> Vec<u8> {
        let empty = a.init();
        a.aggregate_batch(empty, &Batch::from_records(recs)).accumulator
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
        let fold = a.aggregate_batch(empty, &Batch::from_records(&recs));
        let acc = fold.accumulator;
        assert_eq!(acc, br#"{"1":{"count":2,"sum":5},"x":{"count":1,"sum":1.5}}"#.to_vec());
        let errors: Vec<(u32, PluginError)> = fold.errors.into_iter().map(|e| (e.index, e.error)).collect();
        assert_eq!(
            errors,
            vec![
                (3, PluginError::Processing("field \"n\" is not a number".into())),
                (4, PluginError::Processing("missing field \"g\"".into())),
                (5, PluginError::Serialization(json::INVALID_JSON.into())),
            ]
        );
        // The single-record path gives the same accumulator.
        let mut single = a.init();
        for r in &recs {
            if let Ok(next) = a.aggregate(&single, r.view()) {
                single = next;
            }
        }
        assert_eq!(single, acc);
        let out = a.emit(&acc).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out.record(0).key, Some(&b"1"[..]));
        assert_eq!(out.record(0).value, br#"{"count":2,"group":"1","sum":5}"#);
        assert_eq!(out.timestamps(), None);
    }

    #[test]
    fn overflow_and_bad_accumulators_fail() {
        let mut a = configured();
        let acc = a.aggregate(b"{}", rec(r#"{"g":"x","n":1e308}"#).view()).unwrap();
        let err = a.aggregate(&acc, rec(r#"{"g":"x","n":1e308}"#).view()).unwrap_err();
        assert_eq!(err, PluginError::Processing("sum of field \"n\" overflows".into()));
        let bad_accs: [&[u8]; 6] = [
            b"[]",
            b"{\"x\":{\"count\":1}}",
            b"{\"x\":1}",
            b"",
            b"{\"x\":{\"count\":1,\"sum\":1,\"partials\":[2]}}",
            b"{\"x\":{\"count\":1,\"sum\":1,\"partials\":1}}",
        ];
        for bad in bad_accs {
            let err = a.aggregate(bad, rec(r#"{"g":"x","n":1}"#).view()).unwrap_err();
            assert_eq!(err, PluginError::Serialization(BAD_ACC.into()));
            assert_eq!(a.merge(b"{}", bad).unwrap_err(), PluginError::Serialization(BAD_ACC.into()));
        }
    }

    #[test]
    fn sums_are_exact_so_any_split_merges_to_one_fold() {
        let mut a = configured();
        let values = ["1e16", "1", "1", "0.1", "0.2", "0.3", "-1e16", "3.5e-300", "7"];
        let recs: Vec<Record> =
            values.iter().map(|v| rec(&format!(r#"{{"g":"x","n":{}}}"#, v))).collect();
        let whole = fold_all(&mut a, &recs);
        let want = a.emit(&whole).unwrap();
        for cut in 0..=recs.len() {
            let left = fold_all(&mut a, &recs[..cut]);
            let right = fold_all(&mut a, &recs[cut..]);
            let merged = a.merge(&left, &right).unwrap();
            assert_eq!(a.emit(&merged).unwrap(), want, "cut at {}", cut);
        }
        // The exact sum is 9.6 + 3.5e-300, correctly rounded: 9.6 (a plain
        // left-to-right double sum would give 7.6 + 0.6000000000000001...).
        assert_eq!(want.record(0).value, br#"{"count":9,"group":"x","sum":9.6}"#);
        // Exact sums need no partials: the 0.1 encoding.
        let plain = fold_all(&mut a, &[rec(r#"{"g":"y","n":2}"#), rec(r#"{"g":"y","n":0.5}"#)]);
        assert_eq!(plain, br#"{"y":{"count":2,"sum":2.5}}"#.to_vec());
        assert_eq!(a.merge(b"{}", &plain).unwrap(), plain);
    }

    #[test]
    fn fsum_rounding_matches_python() {
        // math.fsum([1e16, 1.0, 1e-16]) == 1.0000000000000002e16
        let mut p = Vec::new();
        for x in [1e16, 1.0, 1e-16] {
            assert!(add_exact(&mut p, x));
        }
        assert_eq!(round_exact(&p), 1.0000000000000002e16);
        let mut q = Vec::new();
        for x in [0.1; 10] {
            add_exact(&mut q, x);
        }
        assert_eq!(round_exact(&q), 1.0);
        assert_eq!(round_exact(&[]), 0.0);
    }
}
