//! Layout tests: a generic canonical-ABI interpreter (written from
//! `CanonicalABI.md`: `alignment`, `elem_size`, `store`, `load`, `flatten`)
//! reads what the specialised glue writes, and writes what the glue reads.

use super::*;
use crate::types::{ParamInfo, PluginError, PluginInfo, PluginKind, Record};

// ---- the spec, generically -------------------------------------------------

#[allow(dead_code)] // U32 completes the calculator; our types do not use it
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
fn batch_fold_ty() -> Ty {
    Ty::Record(vec![bytes(), Ty::List(Box::new(result(None, Some(error_ty()))))])
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
    fn give_bytes(&mut self, bytes: Vec<u8>) -> u32 {
        let at = self.bump(bytes.len() as u32, 1);
        self.write(at, &bytes);
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
    assert_eq!(size(&batch_fold_ty()), BATCH_FOLD_SIZE);
    if let Ty::Record(fs) = batch_fold_ty() {
        assert_eq!(field_offsets(&fs)[1], BATCH_FOLD_OUTCOMES);
    }
}

#[test]
fn the_return_area_holds_every_indirect_result() {
    // rt's return area is 64 bytes, 8-aligned.
    for t in [
        info_ty(),
        batch_fold_ty(),
        result(Some(record_ty()), Some(error_ty())),
        result(Some(Ty::List(Box::new(record_ty()))), Some(error_ty())),
        bytes(),
    ] {
        assert!(size(&t) <= 64 && alignment(&t) <= 8, "{:?}", t);
    }
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
fn records_lifted_from_host_layout_round_trip() {
    let recs = samples();
    let mut m = Fake::new();
    let slot = m.bump(8, 4);
    let g = G::List(recs.iter().map(g_record).collect());
    store(&mut m, &Ty::List(Box::new(record_ty())), slot, &g);
    let (p, n) = (m.load_u32(slot), m.load_u32(slot + 4));
    let lifted = lift_records(&mut m, p, n);
    assert_eq!(lifted, recs);
    // Every buffer the host allocated was taken over or freed, exactly once.
    let mut host: Vec<(u32, u32)> =
        m.host_blocks.iter().filter(|b| b.1 > 0).map(|&(a, s, _)| (a, s)).collect();
    host.sort_unstable();
    assert_eq!(m.released(), host);
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
fn lowered_records_read_back_by_the_spec() {
    let mut m = Fake::new();
    let (p, n) = lower_records(&mut m, samples());
    let slot = m.bump(8, 4);
    m.store_u32(slot, p);
    m.store_u32(slot + 4, n);
    let got = load(&mut m, &Ty::List(Box::new(record_ty())), slot);
    assert_eq!(got, G::List(samples().iter().map(g_record).collect()));
}

#[test]
fn lowered_results_read_back_by_the_spec() {
    let mut cases_bool: Vec<Result<bool, PluginError>> = vec![Ok(true), Ok(false)];
    cases_bool.extend(errors().into_iter().map(Err));
    let mut m = Fake::new();
    let (p, n) = lower_bool_results(&mut m, cases_bool.clone());
    let slot = m.bump(8, 4);
    m.store_u32(slot, p);
    m.store_u32(slot + 4, n);
    let t = Ty::List(Box::new(result(Some(Ty::Bool), Some(error_ty()))));
    let want = cases_bool.iter().map(|r| g_result(r, |b| Some(G::Int(*b as i64)))).collect();
    assert_eq!(load(&mut m, &t, slot), G::List(want));

    let mut cases_rec: Vec<Result<Record, PluginError>> = samples().into_iter().map(Ok).collect();
    cases_rec.extend(errors().into_iter().map(Err));
    let (p, n) = lower_record_results(&mut m, cases_rec.clone());
    m.store_u32(slot, p);
    m.store_u32(slot + 4, n);
    let t = Ty::List(Box::new(result(Some(record_ty()), Some(error_ty()))));
    let want = cases_rec.iter().map(|r| g_result(r, |rec| Some(g_record(rec)))).collect();
    assert_eq!(load(&mut m, &t, slot), G::List(want));

    let mut cases_unit: Vec<Result<(), PluginError>> = vec![Ok(())];
    cases_unit.extend(errors().into_iter().map(Err));
    let (p, n) = lower_unit_results(&mut m, cases_unit.clone());
    m.store_u32(slot, p);
    m.store_u32(slot + 4, n);
    let t = Ty::List(Box::new(result(None, Some(error_ty()))));
    let want = cases_unit.iter().map(|r| g_result(r, |_| None)).collect();
    assert_eq!(load(&mut m, &t, slot), G::List(want));
}

#[test]
fn single_results_read_back_by_the_spec() {
    let mut m = Fake::new();
    let at = m.bump(64, 8);
    let t = result(Some(bytes()), Some(error_ty()));
    for r in [Ok(vec![]), Ok(vec![0u8, 255]), Err(PluginError::Io("no".into()))] {
        store_result_bytes(&mut m, at, r.clone());
        assert_eq!(load(&mut m, &t, at), g_result(&r, |b| Some(G::Bytes(b.clone()))));
    }
    let t = result(Some(Ty::List(Box::new(record_ty()))), Some(error_ty()));
    for r in [Ok(samples()), Ok(vec![]), Err(PluginError::Processing("bad".into()))] {
        store_result_records(&mut m, at, r.clone());
        let want = g_result(&r, |rs| Some(G::List(rs.iter().map(g_record).collect())));
        assert_eq!(load(&mut m, &t, at), want);
    }
    let t = result(Some(record_ty()), Some(error_ty()));
    for r in [Ok(samples()[2].clone()), Err(PluginError::Serialization("s".into()))] {
        store_result_record(&mut m, at, r.clone());
        assert_eq!(load(&mut m, &t, at), g_result(&r, |rec| Some(g_record(rec))));
    }
    for e in errors() {
        store_error(&mut m, at, e.clone());
        assert_eq!(load_error(&mut m, at), e);
    }
}

#[test]
fn batch_fold_and_plugin_info_read_back_by_the_spec() {
    let mut m = Fake::new();
    let at = m.bump(64, 8);
    let outcomes = vec![Ok(()), Err(PluginError::Processing("p".into())), Ok(())];
    store_batch_fold(&mut m, at, b"{\"a\":1}".to_vec(), outcomes.clone());
    let want = G::Fields(vec![
        G::Bytes(b"{\"a\":1}".to_vec()),
        G::List(outcomes.iter().map(|r| g_result(r, |_| None)).collect()),
    ]);
    assert_eq!(load(&mut m, &batch_fold_ty(), at), want);

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
