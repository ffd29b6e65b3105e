//! Batch checks, record views and builders: malformed offsets and indices
//! are errors (never panics), and views agree with the records built.

use super::*;

/// xorshift64*: a dependency-free source of varied test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn bytes(&mut self) -> Vec<u8> {
        let pool: [&[u8]; 6] = [b"a", b"{}", "é".as_bytes(), "🌍".as_bytes(), b"\xff", b"\x00"];
        (0..self.below(5)).flat_map(|_| pool[self.below(6) as usize].to_vec()).collect()
    }
    fn record(&mut self) -> Record {
        let text = |r: &mut Rng| String::from_utf8_lossy(&r.bytes()).into_owned();
        Record {
            key: if self.below(3) == 0 { None } else { Some(self.bytes()) },
            value: self.bytes(),
            timestamp: if self.below(3) == 0 { None } else { Some(self.next() as i64) },
            metadata: (0..self.below(3)).map(|_| (text(self), text(self))).collect(),
        }
    }
}

fn serialization(batch: &Batch) -> String {
    match batch.check() {
        Err(PluginError::Serialization(m)) => m,
        other => panic!("expected a serialization error, got {:?}", other),
    }
}

fn two() -> Batch {
    Batch::from_records(&[
        Record { key: Some(b"k".to_vec()), timestamp: Some(1), ..Record::new(b"ab".to_vec()) },
        Record { metadata: vec![("m".into(), "v".into())], ..Record::new(b"\xffc".to_vec()) },
    ])
}

#[test]
fn built_batches_check_and_view_back_to_their_records() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..300 {
        let recs: Vec<Record> = (0..rng.below(9)).map(|_| rng.record()).collect();
        let batch = Batch::from_records(&recs);
        assert_eq!(batch.check(), Ok(()));
        assert_eq!(batch.len(), recs.len());
        let viewed: Vec<Record> = batch.records().map(|v| v.to_record()).collect();
        assert_eq!(viewed, recs);
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(batch.record(i).to_record(), *r);
        }
        assert_eq!(batch.keys().is_some(), recs.iter().any(|r| r.key.is_some()));
        assert_eq!(batch.timestamps().is_some(), recs.iter().any(|r| r.timestamp.is_some()));
        // Pushing views copies each record through unchanged.
        let mut copy = BatchBuilder::new();
        batch.records().for_each(|v| copy.push_view(v));
        assert_eq!(copy.finish(), batch);
    }
}

#[test]
fn columns_keep_utf8_in_text_and_the_rest_in_binary() {
    let b = two();
    assert_eq!(b.values().text(), "ab");
    assert_eq!(b.values().ends(), &[2, 2]);
    assert_eq!(b.values().binary(), &[(1, b"\xffc".to_vec())]);
    let keys = b.keys().unwrap();
    assert_eq!((keys.ends(), keys.absent()), (&[1u32, 1][..], &[1u32][..]));
    assert_eq!(b.timestamps().unwrap().absent(), &[1]);
    assert_eq!(b.record(1).metadata_get("m"), Some("v"));
    assert_eq!(b.record(1).key, None);
    assert_eq!(b.values().get(1), Some(&b"\xffc"[..]));
    assert_eq!(b.values().get(2), None);
}

#[test]
fn malformed_offsets_are_serialization_errors() {
    let mut b = two();
    b.values.ends = vec![3, 2];
    assert!(serialization(&b).contains("values offsets decrease at record 1"));
    b.values.ends = vec![2, 9];
    assert!(serialization(&b).contains("values offsets end at 9 but the text holds 2 bytes"));
    b.values.ends = vec![2, 1];
    assert!(serialization(&b).contains("decrease"));
    b.values.ends = vec![1, 2];
    assert!(serialization(&b).contains("record 1 is binary or absent but has text"));
    b.values.ends = vec![u32::MAX, 2];
    assert!(serialization(&b).contains("decrease"));

    let mut b = two();
    b.keys.as_mut().unwrap().ends = vec![1];
    assert!(serialization(&b).contains("keys has 1 offsets for 2 records"));
    let mut b = two();
    b.values.binary = vec![(2, vec![0xff])];
    assert!(serialization(&b).contains("values binary index 2 is out of range for 2 records"));
    let mut b = two();
    b.values.binary = vec![(1, vec![0xff]), (1, vec![0xfe])];
    assert!(serialization(&b).contains("values binary indices do not increase at 1"));
    let mut b = two();
    b.values.absent = vec![0];
    assert!(serialization(&b).contains("values absent"));
    let mut b = two();
    b.timestamps.as_mut().unwrap().values = vec![1];
    assert!(serialization(&b).contains("1 timestamps for 2 records"));
    let mut b = two();
    b.timestamps.as_mut().unwrap().absent = vec![5];
    assert!(serialization(&b).contains("timestamps absent index 5"));
}

/// Two records with metadata: (0: "é"="1", "b"="🌍"), (1: "c"="").
fn with_metadata() -> Batch {
    Batch::from_records(&[
        Record {
            metadata: vec![("é".into(), "1".into()), ("b".into(), "🌍".into())],
            ..Record::new(b"x".to_vec())
        },
        Record { metadata: vec![("c".into(), String::new())], ..Record::new(b"y".to_vec()) },
    ])
}

#[test]
fn metadata_travels_as_a_record_list_and_two_string_columns() {
    let b = with_metadata();
    let m = b.metadata();
    assert_eq!(m.records(), &[0, 0, 1]);
    assert_eq!((m.names().text(), m.names().ends()), ("ébc", &[2u32, 3, 4][..]));
    assert_eq!((m.values().text(), m.values().ends()), ("1🌍", &[1u32, 5, 5][..]));
    assert_eq!(m.get(1), Some((0, "b", "🌍")));
    assert_eq!(m.get(3), None);
    assert_eq!(b.record(0).metadata.iter().collect::<Vec<_>>(), vec![("é", "1"), ("b", "🌍")]);
    assert_eq!(b.record(1).metadata_get("c"), Some(""));
    assert_eq!(b.record(2).metadata.len(), 0);
    assert_eq!(b.check(), Ok(()));
}

#[test]
fn malformed_metadata_columns_are_serialization_errors() {
    type Corrupt = fn(&mut MetadataColumn);
    let cases: [(Corrupt, &str); 9] = [
        (|m| m.records[2] = 2, "metadata record 2 is out of range for 2 records"),
        (|m| m.records = vec![1, 0, 1], "metadata records decrease at 0 (after 1)"),
        (|m| m.records.push(1), "metadata names has 3 items for 4 metadata pairs"),
        (|m| m.values.ends.pop().map(drop).unwrap_or(()), "metadata values has 2 items for 3 metadata pairs"),
        (|m| m.names.ends = vec![1, 3, 4], "metadata names offset 1 of item 0 is inside a character"),
        (|m| m.values.ends = vec![1, 5, 9], "metadata values offset 9 of item 2 is past the end of the text"),
        (|m| m.values.ends = vec![5, 1, 5], "metadata values offsets decrease at item 1 (1 < 5)"),
        (|m| m.names.ends = vec![2, 3, 3], "metadata names offsets end at 3 but the text holds 4 bytes"),
        (|m| m.names.ends = vec![2, 3, u32::MAX], "metadata names offset 4294967295 of item 2 is past"),
    ];
    for (corrupt, want) in cases {
        let mut b = with_metadata();
        corrupt(&mut b.metadata);
        let got = serialization(&b);
        assert!(got.contains(want), "{:?} does not contain {:?}", got, want);
    }
}

#[test]
fn views_of_unchecked_garbage_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..500 {
        let recs: Vec<Record> = (0..rng.below(6)).map(|_| rng.record()).collect();
        let mut b = Batch::from_records(&recs);
        let n = b.values.ends.len();
        for e in b.values.ends.iter_mut() {
            if rng.below(2) == 0 {
                *e = rng.below(40) as u32;
            }
        }
        if rng.below(3) == 0 {
            b.values.ends.push(rng.next() as u32);
        }
        if let Some(k) = b.keys.as_mut() {
            k.ends.truncate(rng.below(n as u64 + 1) as usize);
        }
        if rng.below(2) == 0 {
            b.metadata.records.push(rng.next() as u32);
        }
        if rng.below(2) == 0 {
            b.metadata.records.reverse();
        }
        for ends in [&mut b.metadata.names.ends, &mut b.metadata.values.ends] {
            for e in ends.iter_mut() {
                if rng.below(3) == 0 {
                    *e = rng.below(12) as u32;
                }
            }
            if rng.below(4) == 0 {
                ends.pop();
            }
        }
        let _ = b.check();
        for v in b.records() {
            let _ = (v.value.len(), v.key, v.metadata.iter().count());
        }
        for i in 0..b.len() + 2 {
            let _ = b.record(i).to_record();
        }
    }
}

#[test]
fn filter_bitmaps_are_lsb_first() {
    let mut f = FilterOutcome::new(9);
    assert_eq!(f.keep.len(), 2);
    f.set(0, Ok(true));
    f.set(8, Ok(true));
    f.set(2, Ok(true));
    f.set(2, Ok(false));
    f.set(5, Err(PluginError::Io("x".into())));
    assert_eq!(f.keep, vec![0b0000_0001, 0b0000_0001]);
    assert!(f.keeps(0) && f.keeps(8) && !f.keeps(2) && !f.keeps(100));
    assert_eq!(f.errors, vec![RecordError { index: 5, error: PluginError::Io("x".into()) }]);
    let failed = FilterOutcome::failed(3, &PluginError::Io("y".into()));
    assert_eq!((failed.keep, failed.errors.len()), (vec![0], 3));
}
