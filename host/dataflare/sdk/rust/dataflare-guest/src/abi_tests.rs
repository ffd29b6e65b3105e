//! Layout tests: a generic canonical-ABI interpreter (written from
//! `CanonicalABI.md`: `alignment`, `elem_size`, `store`, `load`, `flatten`)
//! reads what the specialised glue writes, and writes what the glue reads.

use super::*;
use crate::batch::{BatchBuilder, RecordError};
use crate::types::{ParamInfo, PluginError, PluginInfo, PluginKind, Record};

// ---- the spec, generically -------------------------------------------------

#[derive(Clone, Debug)]
enum Ty {
    Bool,
    U8,
    U32,
    S64,
    Str,
    List(Box<Ty>),
    Tuple(Vec<Ty>),
    Record(Vec<Ty>),
    Variant(Vec<Option<Ty>>),
}

fn option(t: Ty) -> Ty {
    Ty::Variant(vec![None, Some(t)])
}
fn result(ok: Option<Ty>, err: Option<Ty>) -> Ty {
    Ty::Variant(vec![ok, err])
}
fn enum_(n: usize) -> Ty {
    Ty::Variant(vec![None; n])
}
fn bytes() -> Ty {
    Ty::List(Box::new(Ty::U8))
}

fn record_ty() -> Ty {
    Ty::Record(vec![
        option(bytes()),
        bytes(),
        option(Ty::S64),
        Ty::List(Box::new(Ty::Tuple(vec![Ty::Str, Ty::Str]))),
    ])
}
fn error_ty() -> Ty {
    Ty::Variant(vec![Some(Ty::Str), Some(Ty::Str), Some(Ty::Str), Some(Ty::Str)])
}
fn param_ty() -> Ty {
    Ty::Record(vec![Ty::Str, Ty::Str, Ty::Bool, option(Ty::Str)])
}
fn info_ty() -> Ty {
    Ty::Record(vec![Ty::Str, Ty::Str, enum_(5), Ty::Str, Ty::List(Box::new(param_ty()))])
}
fn list(t: Ty) -> Ty {
    Ty::List(Box::new(t))
}
fn column_ty() -> Ty {
    Ty::Record(vec![Ty::Str, list(Ty::U32), list(Ty::Tuple(vec![Ty::U32, bytes()])), list(Ty::U32)])
}
fn timestamps_ty() -> Ty {
    Ty::Record(vec![list(Ty::S64), list(Ty::U32)])
}
fn string_column_ty() -> Ty {
    Ty::Record(vec![Ty::Str, list(Ty::U32)])
}
fn meta_ty() -> Ty {
    Ty::Record(vec![list(Ty::U32), string_column_ty(), string_column_ty()])
}
fn batch_ty() -> Ty {
    Ty::Record(vec![column_ty(), option(column_ty()), option(timestamps_ty()), meta_ty()])
}
fn record_error_ty() -> Ty {
    Ty::Record(vec![Ty::U32, error_ty()])
}
fn filter_outcome_ty() -> Ty {
    Ty::Record(vec![bytes(), list(record_error_ty())])
}
fn transform_outcome_ty() -> Ty {
    Ty::Record(vec![batch_ty(), list(record_error_ty())])
}
fn fold_outcome_ty() -> Ty {
    Ty::Record(vec![bytes(), list(record_error_ty())])
}
fn read_outcome_ty() -> Ty {
    Ty::Variant(vec![Some(batch_ty()), None, None])
}

fn disc_size(n: usize) -> u32 {
    if n <= 256 {
        1
    } else if n <= 65536 {
        2
    } else {
        4
    }
}

fn max_case_align(cases: &[Option<Ty>]) -> u32 {
    cases.iter().flatten().map(alignment).max().unwrap_or(1)
}

fn alignment(t: &Ty) -> u32 {
    match t {
        Ty::Bool | Ty::U8 => 1,
        Ty::U32 | Ty::Str | Ty::List(_) => 4,
        Ty::S64 => 8,
        Ty::Tuple(fs) | Ty::Record(fs) => fs.iter().map(alignment).max().unwrap_or(1),
        Ty::Variant(cs) => disc_size(cs.len()).max(max_case_align(cs)),
    }
}

fn size(t: &Ty) -> u32 {
    match t {
        Ty::Bool | Ty::U8 => 1,
        Ty::U32 => 4,
        Ty::S64 | Ty::Str | Ty::List(_) => 8,
        Ty::Tuple(fs) | Ty::Record(fs) => {
            let mut s = 0;
            for f in fs {
                s = align_to(s, alignment(f)) + size(f);
            }
            align_to(s, alignment(t))
        }
        Ty::Variant(cs) => {
            let s = align_to(disc_size(cs.len()), max_case_align(cs));
            let payload = cs.iter().flatten().map(size).max().unwrap_or(0);
            align_to(s + payload, alignment(t))
        }
    }
}

fn field_offsets(fs: &[Ty]) -> Vec<u32> {
    let mut s = 0;
    fs.iter()
        .map(|f| {
            s = align_to(s, alignment(f));
            let at = s;
            s += size(f);
            at
        })
        .collect()
}

fn payload_offset(cs: &[Option<Ty>]) -> u32 {
    align_to(disc_size(cs.len()), max_case_align(cs))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Core {
    I32,
    I64,
}

fn flatten(t: &Ty) -> Vec<Core> {
    match t {
        Ty::Bool | Ty::U8 | Ty::U32 => vec![Core::I32],
        Ty::S64 => vec![Core::I64],
        Ty::Str | Ty::List(_) => vec![Core::I32, Core::I32],
        Ty::Tuple(fs) | Ty::Record(fs) => fs.iter().flat_map(flatten).collect(),
        Ty::Variant(cs) => {
            let mut flat: Vec<Core> = Vec::new();
            for c in cs.iter().flatten() {
                for (i, ft) in flatten(c).into_iter().enumerate() {
                    if i < flat.len() {
                        if flat[i] != ft {
                            flat[i] = Core::I64; // join(i32, i64) = i64
                        }
                    } else {
                        flat.push(ft);
                    }
                }
            }
            let mut out = vec![Core::I32];
            out.extend(flat);
            out
        }
    }
}

// A generic value, loaded and stored by the spec's rules.
#[derive(Clone, Debug, PartialEq)]
enum G {
    Int(i64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<G>),
    Fields(Vec<G>),
    Case(u32, Option<Box<G>>),
}

fn load(m: &mut Fake, t: &Ty, at: u32) -> G {
    assert_eq!(at % alignment(t), 0, "misaligned {:?} at {}", t, at);
    match t {
        Ty::Bool | Ty::U8 => G::Int(m.load_u8(at) as i64),
        Ty::U32 => G::Int(m.load_u32(at) as i64),
        Ty::S64 => G::Int(m.load_i64(at)),
        Ty::Str => {
            let (p, n) = (m.load_u32(at), m.load_u32(at + 4));
            G::Str(String::from_utf8(m.read(p, n)).unwrap())
        }
        Ty::List(e) => {
            let (p, n) = (m.load_u32(at), m.load_u32(at + 4));
            if let Ty::U8 = **e {
                return G::Bytes(m.read(p, n));
            }
            assert_eq!(p % alignment(e), 0);
            G::List((0..n).map(|i| load(m, e, p + i * size(e))).collect())
        }
        Ty::Tuple(fs) | Ty::Record(fs) => G::Fields(
            fs.iter().zip(field_offsets(fs)).map(|(f, off)| load(m, f, at + off)).collect(),
        ),
        Ty::Variant(cs) => {
            let case = m.load_u8(at) as u32;
            let payload = cs[case as usize]
                .as_ref()
                .map(|p| Box::new(load(m, p, at + payload_offset(cs))));
            G::Case(case, payload)
        }
    }
}

fn store(m: &mut Fake, t: &Ty, at: u32, v: &G) {
    match (t, v) {
        (Ty::Bool | Ty::U8, G::Int(x)) => m.store_u8(at, *x as u8),
        (Ty::U32, G::Int(x)) => m.store_u32(at, *x as u32),
        (Ty::S64, G::Int(x)) => m.store_i64(at, *x),
        (Ty::Str, G::Str(s)) => {
            let p = m.host_alloc(s.len() as u32, 1);
            m.write(p, s.as_bytes());
            m.store_u32(at, p);
            m.store_u32(at + 4, s.len() as u32);
        }
        (Ty::List(_), G::Bytes(b)) => {
            let p = m.host_alloc(b.len() as u32, 1);
            m.write(p, b);
            m.store_u32(at, p);
            m.store_u32(at + 4, b.len() as u32);
        }
        (Ty::List(e), G::List(items)) => {
            let p = m.host_alloc(items.len() as u32 * size(e), alignment(e));
            for (i, item) in items.iter().enumerate() {
                store(m, e, p + i as u32 * size(e), item);
            }
            m.store_u32(at, p);
            m.store_u32(at + 4, items.len() as u32);
        }
        (Ty::Tuple(fs) | Ty::Record(fs), G::Fields(vs)) => {
            for ((f, off), v) in fs.iter().zip(field_offsets(fs)).zip(vs) {
                store(m, f, at + off, v);
            }
        }
        (Ty::Variant(cs), G::Case(case, payload)) => {
            m.store_u8(at, *case as u8);
            if let (Some(pt), Some(pv)) = (&cs[*case as usize], payload) {
                store(m, pt, at + payload_offset(cs), pv);
            }
        }
        _ => panic!("value {:?} does not fit {:?}", v, t),
    }
}

// ---- G forms of our Rust values --------------------------------------------

fn some(g: G) -> G {
    G::Case(1, Some(Box::new(g)))
}
fn none() -> G {
    G::Case(0, None)
}

fn g_record(r: &Record) -> G {
    G::Fields(vec![
        r.key.as_ref().map_or(none(), |k| some(G::Bytes(k.clone()))),
        G::Bytes(r.value.clone()),
        r.timestamp.map_or(none(), |t| some(G::Int(t))),
        G::List(
            r.metadata
                .iter()
                .map(|(k, v)| G::Fields(vec![G::Str(k.clone()), G::Str(v.clone())]))
                .collect(),
        ),
    ])
}
fn g_error(e: &PluginError) -> G {
    G::Case(e.case() as u32, Some(Box::new(G::Str(e.message().to_string()))))
}
fn g_result<T>(r: &Result<T, PluginError>, ok: impl Fn(&T) -> Option<G>) -> G {
    match r {
        Ok(v) => G::Case(0, ok(v).map(Box::new)),
        Err(e) => G::Case(1, Some(Box::new(g_error(e)))),
    }
}

// ---- a fake linear memory ----------------------------------------------------

/// Bump-allocated memory that records who allocated and freed what.
struct Fake {
    mem: Vec<u8>,
    host_blocks: Vec<(u32, u32, u32)>,
    freed: Vec<(u32, u32, u32)>,
    taken: Vec<(u32, u32)>,
}

impl Fake {
    fn new() -> Self {
        Fake { mem: vec![0xAB; 64], host_blocks: Vec::new(), freed: Vec::new(), taken: Vec::new() }
    }
    fn bump(&mut self, size: u32, align: u32) -> u32 {
        let at = align_to(self.mem.len() as u32, align.max(1));
        // Poison fresh memory so a field the glue forgets to write shows up.
        self.mem.resize((at + size.max(1)) as usize, 0xAB);
        at
    }
    /// What the host's `cabi_realloc` call would return.
    fn host_alloc(&mut self, size: u32, align: u32) -> u32 {
        let at = self.bump(size, align);
        self.host_blocks.push((at, size, align));
        at
    }
    fn read(&self, at: u32, n: u32) -> Vec<u8> {
        self.mem[at as usize..(at + n) as usize].to_vec()
    }
    fn write(&mut self, at: u32, b: &[u8]) {
        self.mem[at as usize..at as usize + b.len()].copy_from_slice(b);
    }
    /// Every host block the glue was given back: freed arrays plus taken byte buffers.
    fn released(&self) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> =
            self.freed.iter().filter(|b| b.1 > 0).map(|&(a, s, _)| (a, s)).collect();
        v.extend(self.taken.iter().copied().filter(|&(_, n)| n > 0));
        v.sort_unstable();
        v
    }
}

impl Memory for Fake {
    fn alloc(&mut self, size: u32, align: u32) -> u32 {
        self.bump(size, align)
    }
    fn free(&mut self, addr: u32, size: u32, align: u32) {
        if size > 0 {
            assert!(
                self.host_blocks.contains(&(addr, size, align)),
                "freed ({}, {}, {}) that the host never allocated",
                addr,
                size,
                align
            );
        }
        self.freed.push((addr, size, align));
    }
    fn load_u8(&self, a: u32) -> u8 {
        self.mem[a as usize]
    }
    fn load_u32(&self, a: u32) -> u32 {
        u32::from_le_bytes(self.read(a, 4).try_into().unwrap())
    }
    fn load_i64(&self, a: u32) -> i64 {
        i64::from_le_bytes(self.read(a, 8).try_into().unwrap())
    }
    fn store_u8(&mut self, a: u32, v: u8) {
        self.mem[a as usize] = v;
    }
    fn store_u32(&mut self, a: u32, v: u32) {
        self.write(a, &v.to_le_bytes());
    }
    fn store_i64(&mut self, a: u32, v: i64) {
        self.write(a, &v.to_le_bytes());
    }
    fn take_bytes(&mut self, addr: u32, len: u32) -> Vec<u8> {
        self.taken.push((addr, len));
        self.read(addr, len)
    }
    fn take_text(&mut self, addr: u32, len: u32) -> String {
        String::from_utf8(self.take_bytes(addr, len)).unwrap()
    }
    fn take_u32s(&mut self, addr: u32, len: u32) -> Vec<u32> {
        assert_eq!(addr % 4, 0, "list<u32> at {} is not 4-aligned", addr);
        self.taken.push((addr, len * 4));
        (0..len).map(|i| self.load_u32(addr + 4 * i)).collect()
    }
    fn take_i64s(&mut self, addr: u32, len: u32) -> Vec<i64> {
        assert_eq!(addr % 8, 0, "list<s64> at {} is not 8-aligned", addr);
        self.taken.push((addr, len * 8));
        (0..len).map(|i| self.load_i64(addr + 8 * i)).collect()
    }
    fn give_bytes(&mut self, bytes: Vec<u8>) -> u32 {
        let at = self.bump(bytes.len() as u32, 1);
        self.write(at, &bytes);
        at
    }
    fn give_u32s(&mut self, items: Vec<u32>) -> u32 {
        let at = self.bump(items.len() as u32 * 4, 4);
        for (i, v) in items.into_iter().enumerate() {
            self.store_u32(at + 4 * i as u32, v);
        }
        at
    }
    fn give_i64s(&mut self, items: Vec<i64>) -> u32 {
        let at = self.bump(items.len() as u32 * 8, 8);
        for (i, v) in items.into_iter().enumerate() {
            self.store_i64(at + 8 * i as u32, v);
        }
        at
    }
}

// ---- sample values -----------------------------------------------------------

fn samples() -> Vec<Record> {
    vec![
        Record::default(),
        Record {
            key: Some(Vec::new()),
            value: Vec::new(),
            timestamp: Some(i64::MIN),
            metadata: vec![(String::new(), String::new())],
        },
        Record {
            key: Some(b"k\x00\xff".to_vec()),
            value: (0..=255u8).cycle().take(70_000).collect(),
            timestamp: Some(i64::MAX),
            metadata: vec![
                ("ünï".to_string(), "😀 \u{0}".to_string()),
                ("a".to_string(), "b".repeat(1000)),
            ],
        },
        Record { key: None, value: b"{}".to_vec(), timestamp: Some(0), metadata: Vec::new() },
        Record { key: None, value: vec![1], timestamp: Some(-1), metadata: Vec::new() },
    ]
}

fn errors() -> Vec<PluginError> {
    vec![
        PluginError::Processing("p".into()),
        PluginError::Configuration(String::new()),
        PluginError::Io("disk ✗".into()),
        PluginError::Serialization("x".repeat(300)),
    ]
}

// ---- the tests -------------------------------------------------------------

#[test]
fn constants_match_the_spec() {
    let rec = record_ty();
    assert_eq!((size(&rec), alignment(&rec)), (RECORD_SIZE, RECORD_ALIGN));
    if let Ty::Record(fs) = &rec {
        assert_eq!(
            field_offsets(fs),
            vec![RECORD_KEY, RECORD_VALUE, RECORD_TIMESTAMP, RECORD_METADATA]
        );
    }
    let pair = Ty::Tuple(vec![Ty::Str, Ty::Str]);
    assert_eq!((size(&pair), alignment(&pair)), (PAIR_SIZE, PAIR_ALIGN));
    assert_eq!((size(&error_ty()), alignment(&error_ty())), (ERROR_SIZE, ERROR_ALIGN));
    assert_eq!(size(&result(None, Some(error_ty()))), RESULT_UNIT_SIZE);
    assert_eq!(size(&result(Some(Ty::Bool), Some(error_ty()))), RESULT_BOOL_SIZE);
    assert_eq!(size(&result(Some(bytes()), Some(error_ty()))), RESULT_LIST_SIZE);
    let rr = result(Some(rec.clone()), Some(error_ty()));
    assert_eq!((size(&rr), alignment(&rr)), (RESULT_RECORD_SIZE, RESULT_RECORD_ALIGN));
    if let Ty::Variant(cs) = &rr {
        assert_eq!(payload_offset(cs), RESULT_RECORD_PAYLOAD);
    }
    if let Ty::Variant(cs) = result(Some(Ty::Bool), Some(error_ty())) {
        assert_eq!(payload_offset(&cs), RESULT_SMALL_PAYLOAD);
    }
    assert_eq!((size(&param_ty()), alignment(&param_ty())), (PARAM_SIZE, PARAM_ALIGN));
    if let Ty::Record(fs) = param_ty() {
        assert_eq!(
            field_offsets(&fs),
            vec![PARAM_NAME, PARAM_DESCRIPTION, PARAM_REQUIRED, PARAM_DEFAULT]
        );
    }
    assert_eq!(size(&info_ty()), INFO_SIZE);
    if let Ty::Record(fs) = info_ty() {
        assert_eq!(
            field_offsets(&fs),
            vec![INFO_NAME, INFO_VERSION, INFO_KIND, INFO_DESCRIPTION, INFO_PARAMS]
        );
    }
}

#[test]
fn the_return_area_holds_every_indirect_result() {
    // rt's return area is RET_AREA_SIZE bytes, 8-aligned.
    let mut largest = 0;
    for t in [
        info_ty(),
        result(Some(record_ty()), Some(error_ty())),
        bytes(),
        filter_outcome_ty(),
        transform_outcome_ty(),
        fold_outcome_ty(),
        list(record_error_ty()),
        result(Some(batch_ty()), Some(error_ty())),
        result(Some(read_outcome_ty()), Some(error_ty())),
    ] {
        assert!(size(&t) as usize <= RET_AREA_SIZE && alignment(&t) <= 8, "{:?}", t);
        largest = largest.max(size(&t) as usize);
    }
    assert_eq!(largest, RET_AREA_SIZE, "no bigger than it needs to be");
}

#[test]
fn flat_record_has_the_nine_core_params_the_macros_declare() {
    use Core::*;
    assert_eq!(flatten(&record_ty()), vec![I32, I32, I32, I32, I32, I32, I64, I32, I32]);
    // aggregate(acc, record) stays under MAX_FLAT_PARAMS = 16.
    assert_eq!(flatten(&bytes()).len() + flatten(&record_ty()).len(), 11);
    // Every result we return exceeds MAX_FLAT_RESULTS = 1, hence the return area.
    assert!(flatten(&result(Some(Ty::Bool), Some(error_ty()))).len() > 1);
    assert!(flatten(&result(None, Some(error_ty()))).len() > 1);
    assert!(flatten(&info_ty()).len() > 1);
}

#[test]
fn flat_record_param_lifts() {
    for r in samples() {
        let mut m = Fake::new();
        let at = m.bump(RECORD_SIZE, 8);
        store(&mut m, &record_ty(), at, &g_record(&r));
        let flat = load_record_flat(&m, at);
        assert_eq!(lift_record_flat(&mut m, flat), r);
    }
}

#[test]
fn single_results_read_back_by_the_spec() {
    let mut m = Fake::new();
    let at = m.bump(128, 8);
    let t = result(Some(bytes()), Some(error_ty()));
    for r in [Ok(vec![]), Ok(vec![0u8, 255]), Err(PluginError::Io("no".into()))] {
        store_result_bytes(&mut m, at, r.clone());
        assert_eq!(load(&mut m, &t, at), g_result(&r, |b| Some(G::Bytes(b.clone()))));
    }
    let t = result(Some(record_ty()), Some(error_ty()));
    for r in [Ok(samples()[2].clone()), Err(PluginError::Serialization("s".into()))] {
        store_result_record(&mut m, at, r.clone());
        assert_eq!(load(&mut m, &t, at), g_result(&r, |rec| Some(g_record(rec))));
    }
    let t = result(Some(Ty::Bool), Some(error_ty()));
    for r in [Ok(true), Ok(false), Err(PluginError::Configuration("c".into()))] {
        store_result_bool(&mut m, at, r.clone());
        assert_eq!(load(&mut m, &t, at), g_result(&r, |b| Some(G::Int(*b as i64))));
    }
    for e in errors() {
        store_error(&mut m, at, e.clone());
        assert_eq!(load_error(&mut m, at), e);
    }
}

#[test]
fn plugin_info_reads_back_by_the_spec() {
    let mut m = Fake::new();
    let at = m.bump(64, 8);
    let info = PluginInfo::new("n", "1.2.3", PluginKind::Aggregate, "déscription")
        .param(ParamInfo::required("a", "first"))
        .param(ParamInfo::optional("b", "", Some("dflt")))
        .param(ParamInfo::optional("c", "third", None));
    store_plugin_info(&mut m, at, info.clone());
    let param = |p: &ParamInfo| {
        G::Fields(vec![
            G::Str(p.name.clone()),
            G::Str(p.description.clone()),
            G::Int(p.required as i64),
            p.default.as_ref().map_or(none(), |d| some(G::Str(d.clone()))),
        ])
    };
    let want = G::Fields(vec![
        G::Str("n".into()),
        G::Str("1.2.3".into()),
        G::Case(4, None),
        G::Str("déscription".into()),
        G::List(info.params.iter().map(param).collect()),
    ]);
    assert_eq!(load(&mut m, &info_ty(), at), want);
}

#[test]
fn config_pairs_round_trip() {
    let pairs = vec![("field".to_string(), "ü".to_string()), (String::new(), "x".repeat(99))];
    let mut m = Fake::new();
    let (p, n) = lower_pairs(&mut m, pairs.clone());
    let mut m2 = Fake::new();
    let slot = m2.bump(8, 4);
    let s = m.bump(8, 4);
    m.store_u32(s, p);
    m.store_u32(s + 4, n);
    let g = load(&mut m, &Ty::List(Box::new(Ty::Tuple(vec![Ty::Str, Ty::Str]))), s);
    store(&mut m2, &Ty::List(Box::new(Ty::Tuple(vec![Ty::Str, Ty::Str]))), slot, &g);
    let (p2, n2) = (m2.load_u32(slot), m2.load_u32(slot + 4));
    assert_eq!(lift_pairs(&mut m2, p2, n2), pairs);
}

// ---- columnar batches --------------------------------------------------------

/// Records that exercise every column rule: text and binary values and keys,
/// absent keys and timestamps, multi-byte UTF-8, repeated metadata.
fn batch_samples() -> Vec<Record> {
    let mut recs = samples();
    recs.push(Record {
        key: Some("ключ🔑".as_bytes().to_vec()),
        value: "{\"текст\": \"héllo 🌍\"}".as_bytes().to_vec(),
        timestamp: None,
        metadata: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
    });
    recs.push(Record::new(b"\xc3\x28 split".to_vec()));
    recs
}

/// The spec's `bytes-column` for `items`, computed here from the WIT's rules.
fn g_column(items: &[Option<&[u8]>]) -> G {
    let (mut text, mut ends, mut binary, mut absent) = (String::new(), vec![], vec![], vec![]);
    for (i, item) in items.iter().enumerate() {
        match item {
            None => absent.push(G::Int(i as i64)),
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => text.push_str(s),
                Err(_) => binary.push(G::Fields(vec![G::Int(i as i64), G::Bytes(b.to_vec())])),
            },
        }
        ends.push(G::Int(text.len() as i64));
    }
    G::Fields(vec![G::Str(text), G::List(ends), G::List(binary), G::List(absent)])
}

fn g_batch(recs: &[Record]) -> G {
    let values: Vec<Option<&[u8]>> = recs.iter().map(|r| Some(&r.value[..])).collect();
    let keys: Vec<Option<&[u8]>> = recs.iter().map(|r| r.key.as_deref()).collect();
    let keys = if keys.iter().any(Option::is_some) { some(g_column(&keys)) } else { none() };
    let timestamps = if recs.iter().any(|r| r.timestamp.is_some()) {
        some(G::Fields(vec![
            G::List(recs.iter().map(|r| G::Int(r.timestamp.unwrap_or(0))).collect()),
            G::List(
                recs.iter()
                    .enumerate()
                    .filter(|(_, r)| r.timestamp.is_none())
                    .map(|(i, _)| G::Int(i as i64))
                    .collect(),
            ),
        ]))
    } else {
        none()
    };
    G::Fields(vec![g_column(&values), keys, timestamps, g_metadata(recs)])
}

/// The spec's `metadata-column`: a record index per pair, names and values
/// as `string-column`s with UTF-8 byte end offsets.
fn g_metadata(recs: &[Record]) -> G {
    let (mut records, mut names, mut name_ends, mut values, mut value_ends) =
        (vec![], String::new(), vec![], String::new(), vec![]);
    for (i, r) in recs.iter().enumerate() {
        for (k, v) in &r.metadata {
            records.push(G::Int(i as i64));
            names.push_str(k);
            name_ends.push(G::Int(names.len() as i64));
            values.push_str(v);
            value_ends.push(G::Int(values.len() as i64));
        }
    }
    G::Fields(vec![
        G::List(records),
        G::Fields(vec![G::Str(names), G::List(name_ends)]),
        G::Fields(vec![G::Str(values), G::List(value_ends)]),
    ])
}

fn g_record_errors(errors: &[RecordError]) -> G {
    G::List(
        errors.iter().map(|e| G::Fields(vec![G::Int(e.index as i64), g_error(&e.error)])).collect(),
    )
}

fn record_errors() -> Vec<RecordError> {
    errors().into_iter().enumerate().map(|(i, error)| RecordError { index: 3 * i as u32, error }).collect()
}

#[test]
fn batch_constants_match_the_spec() {
    let batch = batch_ty();
    assert_eq!((size(&batch), alignment(&batch)), (BATCH_SIZE, BATCH_ALIGN));
    if let Ty::Record(fs) = &batch {
        assert_eq!(
            field_offsets(fs),
            vec![BATCH_VALUES, BATCH_KEYS, BATCH_TIMESTAMPS, BATCH_METADATA]
        );
    }
    assert_eq!(payload_offset(&[None, Some(column_ty())]), 4);
    assert_eq!(payload_offset(&[None, Some(timestamps_ty())]), 4);
    assert_eq!(size(&column_ty()), COLUMN_SIZE);
    if let Ty::Record(fs) = column_ty() {
        assert_eq!(field_offsets(&fs), vec![COLUMN_TEXT, COLUMN_ENDS, COLUMN_BINARY, COLUMN_ABSENT]);
    }
    let item = Ty::Tuple(vec![Ty::U32, bytes()]);
    assert_eq!((size(&item), alignment(&item)), (BINARY_ITEM_SIZE, BINARY_ITEM_ALIGN));
    assert_eq!((size(&meta_ty()), alignment(&meta_ty())), (META_SIZE, META_ALIGN));
    if let Ty::Record(fs) = meta_ty() {
        assert_eq!(field_offsets(&fs), vec![META_RECORDS, META_NAMES, META_VALUES]);
    }
    assert_eq!(size(&string_column_ty()), STRING_COLUMN_SIZE);
    if let Ty::Record(fs) = string_column_ty() {
        assert_eq!(field_offsets(&fs), vec![STRING_COLUMN_TEXT, STRING_COLUMN_ENDS]);
    }
    let re = record_error_ty();
    assert_eq!((size(&re), alignment(&re)), (RECORD_ERROR_SIZE, RECORD_ERROR_ALIGN));
    if let Ty::Record(fs) = re {
        assert_eq!(field_offsets(&fs)[1], RECORD_ERROR_ERROR);
    }
    for t in [filter_outcome_ty(), fold_outcome_ty()] {
        assert_eq!(size(&t), OUTCOME_SIZE);
        if let Ty::Record(fs) = t {
            assert_eq!(field_offsets(&fs)[1], OUTCOME_ERRORS);
        }
    }
    assert_eq!(size(&transform_outcome_ty()), TRANSFORM_OUTCOME_SIZE);
    if let Ty::Record(fs) = transform_outcome_ty() {
        assert_eq!(field_offsets(&fs)[1], TRANSFORM_OUTCOME_ERRORS);
    }
    assert_eq!(size(&result(Some(batch_ty()), Some(error_ty()))), RESULT_BATCH_SIZE);
    let read = result(Some(read_outcome_ty()), Some(error_ty()));
    assert_eq!(size(&read), RESULT_READ_SIZE);
    if let Ty::Variant(cs) = read_outcome_ty() {
        assert_eq!(payload_offset(&cs), READ_OUTCOME_BATCH);
    }
    // Spilled parameters: one block holding the tuple of every parameter.
    let params = Ty::Tuple(vec![batch_ty()]);
    assert_eq!((size(&params), alignment(&params)), (BATCH_PARAMS_SIZE, BATCH_ALIGN));
    let params = Ty::Tuple(vec![bytes(), batch_ty()]);
    assert_eq!((size(&params), alignment(&params)), (ACC_BATCH_PARAMS_SIZE, BATCH_ALIGN));
    if let Ty::Tuple(fs) = params {
        assert_eq!(field_offsets(&fs)[1], ACC_BATCH_PARAMS_BATCH);
    }
}

#[test]
fn batch_exports_take_one_pointer_and_merge_four_values() {
    // More than MAX_FLAT_PARAMS = 16 flat values: the macros declare `(p)`.
    assert_eq!(flatten(&batch_ty()).len(), 32);
    assert!(flatten(&bytes()).len() + flatten(&batch_ty()).len() > 16);
    // merge(a, b): two lists, four i32s, as `(ap, an, bp, bn)`.
    assert_eq!(flatten(&Ty::Tuple(vec![bytes(), bytes()])), vec![Core::I32; 4]);
    // Every batch result exceeds MAX_FLAT_RESULTS = 1, hence the return area.
    for t in [filter_outcome_ty(), list(record_error_ty()), fold_outcome_ty()] {
        assert!(flatten(&t).len() > 1);
    }
}

fn lift_from_host(recs: &[Record]) -> (Batch, Fake) {
    let mut m = Fake::new();
    let at = m.host_alloc(BATCH_SIZE, BATCH_ALIGN);
    store(&mut m, &batch_ty(), at, &g_batch(recs));
    let batch = lift_batch(&mut m, at);
    m.free(at, BATCH_SIZE, BATCH_ALIGN); // what rt does with the parameter block
    (batch, m)
}

#[test]
fn batches_lifted_from_host_layout_give_back_the_records() {
    let cases: Vec<Vec<Record>> = vec![
        batch_samples(),
        vec![],
        vec![Record::new(b"x".to_vec()), Record::new(Vec::new())],
        vec![Record { timestamp: Some(5), ..Record::default() }],
    ];
    for recs in cases {
        let (batch, m) = lift_from_host(&recs);
        assert_eq!(batch.check(), Ok(()));
        let viewed: Vec<Record> = batch.records().map(|v| v.to_record()).collect();
        assert_eq!(viewed, recs);
        let by_index: Vec<Record> = (0..recs.len()).map(|i| batch.record(i).to_record()).collect();
        assert_eq!(by_index, recs);
        // The builder encodes exactly as the spec computation above.
        assert_eq!(batch, Batch::from_records(&recs));
        // Every buffer the host allocated was taken over or freed, exactly once.
        let mut host: Vec<(u32, u32)> =
            m.host_blocks.iter().filter(|b| b.1 > 0).map(|&(a, s, _)| (a, s)).collect();
        host.sort_unstable();
        assert_eq!(m.released(), host);
    }
}

#[test]
fn views_borrow_the_lifted_text() {
    let recs = vec![Record::new(b"abc".to_vec()), Record::new(b"de".to_vec())];
    let (batch, _) = lift_from_host(&recs);
    let text = batch.values().text().as_ptr() as usize;
    let second = batch.record(1).value.as_ptr() as usize;
    assert_eq!(second - text, 3, "a view is a slice of the column, not a copy");
    assert_eq!(batch.values().ends(), &[3, 5]);
}

#[test]
fn lowered_batches_read_back_by_the_spec() {
    for recs in [batch_samples(), vec![], vec![Record::new(b"\xff".to_vec())]] {
        let mut m = Fake::new();
        let at = m.bump(BATCH_SIZE, BATCH_ALIGN);
        store_batch(&mut m, at, Batch::from_records(&recs));
        assert_eq!(load(&mut m, &batch_ty(), at), g_batch(&recs));
    }
}

#[test]
fn lowered_outcomes_read_back_by_the_spec() {
    let mut m = Fake::new();
    let at = m.bump(128, 8);
    let recs = batch_samples();

    let mut f = FilterOutcome::new(10);
    f.set(0, Ok(true));
    f.set(9, Ok(true));
    f.set(3, Ok(false));
    f.set(4, Err(PluginError::Io("x".into())));
    assert_eq!(f.keep, vec![0b0000_0001, 0b0000_0010]);
    store_filter_outcome(&mut m, at, f.clone());
    let want = G::Fields(vec![G::Bytes(f.keep.clone()), g_record_errors(&f.errors)]);
    assert_eq!(load(&mut m, &filter_outcome_ty(), at), want);

    let t = TransformOutcome { records: Batch::from_records(&recs), errors: record_errors() };
    store_transform_outcome(&mut m, at, t);
    let want = G::Fields(vec![g_batch(&recs), g_record_errors(&record_errors())]);
    assert_eq!(load(&mut m, &transform_outcome_ty(), at), want);

    store_fold_outcome(&mut m, at, FoldOutcome { accumulator: b"acc".to_vec(), errors: record_errors() });
    let want = G::Fields(vec![G::Bytes(b"acc".to_vec()), g_record_errors(&record_errors())]);
    assert_eq!(load(&mut m, &fold_outcome_ty(), at), want);

    store_record_errors(&mut m, at, record_errors());
    assert_eq!(load(&mut m, &list(record_error_ty()), at), g_record_errors(&record_errors()));

    let t = result(Some(batch_ty()), Some(error_ty()));
    store_result_batch(&mut m, at, Ok(Batch::from_records(&recs)));
    assert_eq!(load(&mut m, &t, at), G::Case(0, Some(Box::new(g_batch(&recs)))));
    store_result_batch(&mut m, at, Err(PluginError::Processing("p".into())));
    let err = G::Case(1, Some(Box::new(g_error(&PluginError::Processing("p".into())))));
    assert_eq!(load(&mut m, &t, at), err);

    let t = result(Some(read_outcome_ty()), Some(error_ty()));
    let ok = |case: u32, payload: Option<G>| G::Case(0, Some(Box::new(G::Case(case, payload.map(Box::new)))));
    store_result_read(&mut m, at, Ok(ReadOutcome::Records(Batch::from_records(&recs))));
    assert_eq!(load(&mut m, &t, at), ok(0, Some(g_batch(&recs))));
    store_result_read(&mut m, at, Ok(ReadOutcome::Pending));
    assert_eq!(load(&mut m, &t, at), ok(1, None));
    store_result_read(&mut m, at, Ok(ReadOutcome::End));
    assert_eq!(load(&mut m, &t, at), ok(2, None));
    store_result_read(&mut m, at, Err(PluginError::Processing("p".into())));
    assert_eq!(load(&mut m, &t, at), err);
}

#[test]
fn failed_placeholders_are_empty_records() {
    let t = TransformOutcome::failed(3, &PluginError::Serialization("bad".into()));
    let mut b = BatchBuilder::new();
    for _ in 0..3 {
        b.push_empty();
    }
    assert_eq!(t.records, b.finish());
    assert_eq!(t.records.values().ends(), &[0, 0, 0]);
    assert_eq!(t.errors.iter().map(|e| e.index).collect::<Vec<_>>(), vec![0, 1, 2]);
}
