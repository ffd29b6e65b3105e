//! `transform/mask_email`: hide the local part of an email address.
//!
//! The same plugin as the host's native `dataflare.builtin.mask_email`: the
//! local part (before the LAST `@`) becomes its first code point plus `***`,
//! and the value is re-encoded canonically (RFC 8785).
#![forbid(unsafe_code)]

use dataflare_guest::json::{self, Value};
use dataflare_guest::{Config, ParamInfo, PluginError, PluginInfo, PluginKind, Record, RecordView, Transform};

/// `address` with its local part reduced to the first code point and `***`.
pub fn mask(address: &str) -> String {
    let (local, rest) = match address.rfind('@') {
        Some(at) => address.split_at(at),
        None => (address, ""),
    };
    let mut out: String = local.chars().take(1).collect();
    out.push_str("***");
    out.push_str(rest);
    out
}

pub struct MaskEmail {
    field: String,
}

impl Default for MaskEmail {
    fn default() -> Self {
        MaskEmail { field: "email".to_string() }
    }
}

impl Transform for MaskEmail {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new(
            "mask_email",
            "0.1.0",
            PluginKind::Transform,
            "Mask the local part of an email address held in a JSON field.",
        )
        .param(ParamInfo::optional("field", "top-level key holding the email address", Some("email")))
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        let config = config.validate(&self.describe())?;
        self.field = config.require("field")?.to_string();
        Ok(())
    }

    fn transform(&mut self, record: RecordView<'_>) -> Result<Record, PluginError> {
        let mut obj = json::parse_object(record.value)?;
        if let Some(found) = obj.get_mut(&self.field) {
            match found {
                Value::String(s) => *s = mask(s),
                _ => {
                    return Err(PluginError::Processing(format!(
                        "field \"{}\" is not a string",
                        self.field
                    )))
                }
            }
        }
        Ok(record.with_value(json::canonical(&Value::Object(obj))))
    }
}

dataflare_guest::export_transform!(MaskEmail);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_native_twin() {
        assert_eq!(mask("alice@example.com"), "a***@example.com");
        assert_eq!(mask("@x"), "***@x");
        assert_eq!(mask("bob"), "b***");
        assert_eq!(mask(""), "***");
        assert_eq!(mask("a@b@c"), "a***@c");
        assert_eq!(mask("😀x@y"), "😀***@y");
    }

    #[test]
    fn transforms_and_canonicalises() {
        let mut t = MaskEmail::default();
        let mut r = Record::new(br#"{ "email": "alice@example.com", "b": 1.0 }"#.to_vec());
        r.timestamp = Some(5);
        let out = t.transform(r.view()).unwrap();
        assert_eq!(out.value, br#"{"b":1,"email":"a***@example.com"}"#.to_vec());
        assert_eq!(out.timestamp, Some(5));
        let err = t.transform(Record::new(br#"{"email":1}"#.to_vec()).view()).unwrap_err();
        assert_eq!(err, PluginError::Processing("field \"email\" is not a string".into()));
        let out = t.transform(Record::new(br#"{"z":[1e21]}"#.to_vec()).view()).unwrap();
        assert_eq!(out.value, br#"{"z":[1e+21]}"#.to_vec());
    }
}
