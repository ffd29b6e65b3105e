use super::*;

fn ok(s: &str) -> Value {
    parse(s.as_bytes()).unwrap_or_else(|_| panic!("{:?} should parse", s))
}

fn canon(s: &str) -> String {
    String::from_utf8(canonical(&ok(s))).unwrap()
}

#[test]
fn rejects_what_the_host_rejects() {
    for bad in [
        "", " ", "nul", "NaN", "Infinity", "-Infinity", "01", "1.", ".5", "-", "+1", "1e", "1e+",
        "[1,]", "{\"a\":1,}", "{a:1}", "'a'", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"\\x41\"", "\"\\u12g4\"", "\"a\nb\"", "1e400", "-1e400", "[1] [2]", "\u{feff}{}", "\"",
        "\u{a0}1", "{\"a\" 1}", "[", "tru", "1 2",
    ] {
        assert_eq!(parse(bad.as_bytes()), Err(InvalidJson), "{:?} should be invalid", bad);
    }
    assert_eq!(parse(b"\"\xff\""), Err(InvalidJson));
    assert_eq!(parse(b"\xef\xbb\xbf{}"), Err(InvalidJson));
}

#[test]
fn accepts_rfc_8259() {
    assert_eq!(ok(" \t\r\n1 \n"), Value::Number(1.0));
    assert_eq!(ok("-0"), Value::Number(-0.0));
    assert_eq!(ok("1e-400"), Value::Number(0.0));
    assert_eq!(ok("\"\\ud83d\\ude00\\u00e9\\/\""), Value::String("😀é/".into()));
    assert_eq!(ok("{\"a\":1,\"a\":2}"), ok("{\"a\":2}"));
    assert_eq!(ok("9007199254740993"), Value::Number(9007199254740992.0));
}

#[test]
fn depth_is_bounded_without_overflowing_the_stack() {
    let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    assert!(parse(deep.as_bytes()).is_ok());
    let deeper = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
    assert_eq!(parse(deeper.as_bytes()), Err(InvalidJson));
}

#[test]
fn equality_follows_the_host_rules() {
    assert!(equal(&ok("1"), &ok("1.0e0")));
    assert!(equal(&ok("-0"), &ok("0")));
    assert!(!equal(&ok("true"), &ok("1")));
    assert!(!equal(&ok("null"), &ok("false")));
    assert!(equal(&ok("{\"a\":[1,{}]}"), &ok("{ \"a\" : [ 1.0 , { } ] }")));
    assert!(!equal(&ok("{\"a\":1}"), &ok("{\"a\":1,\"b\":1}")));
    assert!(!equal(&ok("[1]"), &ok("[1,1]")));
}

#[test]
fn numbers_print_as_ecmascript_does() {
    for (x, want) in [
        (1.0, "1"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (-1.25, "-1.25"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"),
        (123.456, "123.456"),
        (1.0 / 3.0, "0.3333333333333333"),
        // Two nearest 16-digit strings, .2 and .3: ECMAScript takes the even one.
        (562949953421312.25, "562949953421312.2"),
        (0.30000000000000004, "0.30000000000000004"),
        (2.5, "2.5"),
        (1e23, "1e+23"),
    ] {
        assert_eq!(es_number(x), want, "{}", x);
    }
}

#[test]
fn canonical_form_is_rfc_8785() {
    assert_eq!(canon("{ \"b\": [1.0, true, null], \"a\": \"x\" }"), "{\"a\":\"x\",\"b\":[1,true,null]}");
    assert_eq!(canon("\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\\\u007f\\u2028/\""), "\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\\u{7f}\u{2028}/\"");
    // U+FFFF sorts after U+1F600 in UTF-16 (0xD83D < 0xFFFF) though not in UTF-8.
    assert_eq!(canon("{\"\u{ffff}\":1,\"\u{1f600}\":2}"), "{\"\u{1f600}\":2,\"\u{ffff}\":1}");
    assert_eq!(canon("{\"a\":{\"d\":1e21,\"c\":-0}}"), "{\"a\":{\"c\":0,\"d\":1e+21}}");
}

#[test]
fn accessors_read_one_kind_each() {
    let v = ok(r#"{"amount": 12.5, "name": "x", "ok": true, "none": null, "list": [1], "sub": {"a": 1}}"#);
    assert_eq!(v.get("amount").and_then(Value::as_f64), Some(12.5));
    assert_eq!(v.get("name").and_then(Value::as_str), Some("x"));
    assert_eq!(v.get("ok").and_then(Value::as_bool), Some(true));
    assert!(v.get("none").map_or(false, Value::is_null));
    assert_eq!(v.get("list").and_then(Value::as_array).map(Vec::len), Some(1));
    assert_eq!(v.get("sub").and_then(|s| s.get("a")).and_then(Value::as_f64), Some(1.0));
    // The wrong kind, or a missing member, is `None`, never a coercion.
    assert_eq!(v.get("name").and_then(Value::as_f64), None);
    assert_eq!(v.get("amount").and_then(Value::as_str), None);
    assert_eq!(v.get("missing"), None);
    assert_eq!(ok("[1]").get("a"), None);
    assert_eq!(ok("1").as_object(), None);
}

#[test]
fn builders_encode_compactly() {
    let v = object([("n", 1u64.into()), ("tag", "seen".into()), ("ok", false.into()), ("x", 0.5.into())]);
    assert_eq!(v.to_json(), r#"{"n":1,"ok":false,"tag":"seen","x":0.5}"#);
    assert_eq!(to_vec(v.clone()), v.to_json().into_bytes());
    let mut obj = parse_object(br#"{"b": [1, "2"]}"#).unwrap();
    obj.insert("a".into(), Value::from(String::from("é")));
    assert_eq!(to_vec(obj), "{\"a\":\"é\",\"b\":[1,\"2\"]}".as_bytes());
    assert_eq!(Value::from(vec![Value::Null]).to_json(), "[null]");
}

#[test]
fn a_record_view_decodes_its_value_as_an_object() {
    let record = crate::Record::new(br#"{"amount": 3}"#.to_vec());
    assert_eq!(record.view().json().unwrap().get("amount"), Some(&Value::Number(3.0)));
    let not_object = crate::Record::new(b"[3]".to_vec());
    assert_eq!(not_object.view().json(), Err(crate::PluginError::Serialization(NOT_AN_OBJECT.into())));
    let invalid = crate::Record::new(b"{".to_vec());
    assert_eq!(invalid.view().json(), Err(crate::PluginError::Serialization(INVALID_JSON.into())));
}
