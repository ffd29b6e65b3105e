//! The terse builders and typed parameters: defaults filled in, bad values
//! named in configuration errors.

use super::*;

fn pairs(items: &[(&str, &str)]) -> Config {
    Config::new(items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

#[test]
fn kind_constructors_default_the_version_and_description() {
    let info = PluginInfo::filter("amount_min").optional("min", "10", "keep amounts above this");
    assert_eq!(info, PluginInfo::new("amount_min", "0.1.0", PluginKind::Filter, "")
        .param(ParamInfo::optional("min", "keep amounts above this", Some("10"))));
    let kinds = [
        (PluginInfo::transform("t"), PluginKind::Transform),
        (PluginInfo::aggregate("a"), PluginKind::Aggregate),
        (PluginInfo::source("s"), PluginKind::Source),
        (PluginInfo::sink("k"), PluginKind::Sink),
    ];
    for (info, kind) in kinds {
        assert_eq!((info.kind, info.version.as_str()), (kind, DEFAULT_VERSION));
    }
    let info = PluginInfo::sink("k").version("2.0.0").description("d").required("path", "where");
    assert_eq!((info.version.as_str(), info.description.as_str()), ("2.0.0", "d"));
    assert_eq!(info.params, vec![ParamInfo::required("path", "where")]);
}

#[test]
fn typed_params_use_the_declared_default() {
    let info = PluginInfo::filter("f").optional("min", "10", "").optional("n", "3", "");
    let config = pairs(&[("min", "2.5")]).validate(&info).unwrap();
    assert_eq!(config.parse::<f64>("min"), Ok(2.5));
    assert_eq!(config.parse::<u64>("n"), Ok(3));
    assert_eq!(config.get_or("other", "x"), "x");
    assert_eq!(pairs(&[]).parse_or::<u32>("n", 7), Ok(7));
    assert_eq!(pairs(&[("n", "8")]).parse_or::<u32>("n", 7), Ok(8));
    let mut n = 0u64;
    assert_eq!(config.parse_into("n", &mut n), Ok(()));
    assert_eq!(n, 3);
    assert!(pairs(&[("n", "x")]).parse_into("n", &mut n).is_err());
    assert_eq!(n, 3, "a bad value leaves the target as it was");
}

#[test]
fn bad_or_missing_typed_params_are_configuration_errors() {
    fn err<T>(message: &str) -> Result<T, PluginError> {
        Err(PluginError::Configuration(message.to_string()))
    }
    assert_eq!(pairs(&[("min", "ten")]).parse::<f64>("min"), err("parameter 'min' must be a number, got 'ten'"));
    assert_eq!(
        pairs(&[("count", "-1")]).parse::<u64>("count"),
        err("parameter 'count' must be a non-negative integer, got '-1'")
    );
    assert!(pairs(&[("count", "1.5")]).parse_or::<u64>("count", 5).is_err());
    assert_eq!(pairs(&[("on", "yes")]).parse::<bool>("on"), err("parameter 'on' must be true or false, got 'yes'"));
    assert_eq!(pairs(&[]).parse::<i32>("n"), err("missing required parameter 'n'"));
}

#[test]
fn keyed_records_have_no_timestamp_or_metadata() {
    let record = Record::keyed("1", b"{}".to_vec());
    assert_eq!(record, Record { key: Some(b"1".to_vec()), value: b"{}".to_vec(), timestamp: None, metadata: vec![] });
}

/// The 15-line minimal filter of the crate docs and the README, as written there.
mod minimal_filter {
    use crate::{Config, Filter, PluginError, PluginInfo, RecordView, Value};

    #[derive(Default)]
    pub struct AmountMin(f64);

    impl Filter for AmountMin {
        fn describe(&self) -> PluginInfo {
            PluginInfo::filter("amount_min").optional("min", "10", "keep amounts above this")
        }
        fn configure(&mut self, config: Config) -> Result<(), PluginError> {
            config.validate(&self.describe())?.parse_into("min", &mut self.0)
        }
        fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
            Ok(record.json()?.get("amount").and_then(Value::as_f64).map_or(false, |a| a > self.0))
        }
    }
    crate::export_filter!(AmountMin);

    #[test]
    fn keeps_amounts_above_the_default_min() {
        let mut f = AmountMin::default();
        f.configure(Config::default()).unwrap();
        let keep = |f: &mut AmountMin, v: &str| f.filter(crate::Record::new(v.as_bytes().to_vec()).view());
        assert_eq!(keep(&mut f, r#"{"amount": 10.5}"#), Ok(true));
        assert_eq!(keep(&mut f, r#"{"amount": 10}"#), Ok(false));
        assert_eq!(keep(&mut f, r#"{"amount": "11"}"#), Ok(false));
        assert!(keep(&mut f, "[]").is_err());
        assert!(f.configure(Config::new(vec![("min".into(), "x".into())])).is_err());
    }
}
