//! Columnar batches (WIT `batch`): what batch exports receive and return.
//!
//! A [`Batch`] owns the buffers the host lowered (one text buffer and one
//! offset array per column, taken over without copying). Plugin code reads it
//! one record at a time through [`RecordView`]s, which borrow slices of those
//! buffers, or reads the columns directly. Output batches are built with a
//! [`BatchBuilder`].
//!
//! Every batch the SDK lifts is checked with [`Batch::check`] before plugin
//! code sees it, so views never read outside the buffers; accessors still use
//! checked slicing, so even an unchecked batch cannot make them panic.

use crate::types::{PluginError, Record};

/// A column of byte strings, one per record (WIT `bytes-column`).
///
/// Record `i`'s item is `text[ends[i-1]..ends[i]]` (offsets in UTF-8 bytes),
/// unless `i` is listed in `binary` (bytes that are not UTF-8) or `absent`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Column {
    pub(crate) text: String,
    pub(crate) ends: Vec<u32>,
    pub(crate) binary: Vec<(u32, Vec<u8>)>,
    pub(crate) absent: Vec<u32>,
}

impl Column {
    /// A column from its parts, for plugins that build columns directly.
    /// Nothing is checked here; the host checks what it receives.
    pub fn from_parts(text: String, ends: Vec<u32>, binary: Vec<(u32, Vec<u8>)>, absent: Vec<u32>) -> Self {
        Column { text, ends, binary, absent }
    }
    /// Every UTF-8 item of the column, concatenated in record order.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// `ends[i]`: the byte offset in [`Column::text`] where record i's item ends.
    pub fn ends(&self) -> &[u32] {
        &self.ends
    }
    /// Items that are not UTF-8, as (record index, bytes), by increasing index.
    pub fn binary(&self) -> &[(u32, Vec<u8>)] {
        &self.binary
    }
    /// Records without an item (key-less records in a key column).
    pub fn absent(&self) -> &[u32] {
        &self.absent
    }
    /// Records in the column.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    /// True when the column holds no record.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// Record i's span of `text` (empty for binary and absent items, and out of range).
    pub fn span(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends.get(i - 1).copied().unwrap_or(0) };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.text.as_bytes().get(start as usize..end as usize).unwrap_or(&[])
    }
    /// Record i's item: its bytes, or `None` when absent (or out of range).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len() || self.absent.binary_search(&(i as u32)).is_ok() {
            return None;
        }
        match self.binary.binary_search_by_key(&(i as u32), |(at, _)| *at) {
            Ok(at) => Some(&self.binary[at].1),
            Err(_) => Some(self.span(i)),
        }
    }

    fn check(&self, name: &str, n: usize) -> Result<(), String> {
        if self.ends.len() != n {
            return Err(format!("{} has {} offsets for {} records", name, self.ends.len(), n));
        }
        let mut prev = 0u32;
        for (i, &end) in self.ends.iter().enumerate() {
            if end < prev {
                return Err(format!("{} offsets decrease at record {} ({} < {})", name, i, end, prev));
            }
            prev = end;
        }
        if prev as usize != self.text.len() {
            return Err(format!(
                "{} offsets end at {} but the text holds {} bytes",
                name,
                prev,
                self.text.len()
            ));
        }
        let binary = self.binary.iter().map(|(i, _)| *i);
        check_indices(&format!("{} binary", name), binary, n)?;
        check_indices(&format!("{} absent", name), self.absent.iter().copied(), n)?;
        for i in self.binary.iter().map(|(i, _)| *i).chain(self.absent.iter().copied()) {
            if !self.span(i as usize).is_empty() {
                return Err(format!("{} record {} is binary or absent but has text", name, i));
            }
        }
        Ok(())
    }
}

/// Indices strictly increasing and below `n`.
fn check_indices(name: &str, indices: impl Iterator<Item = u32>, n: usize) -> Result<(), String> {
    let mut prev: Option<u32> = None;
    for i in indices {
        if i as usize >= n {
            return Err(format!("{} index {} is out of range for {} records", name, i, n));
        }
        if prev.map_or(false, |p| i <= p) {
            return Err(format!("{} indices do not increase at {}", name, i));
        }
        prev = Some(i);
    }
    Ok(())
}

/// One timestamp per record (WIT `timestamp-column`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timestamps {
    pub(crate) values: Vec<i64>,
    pub(crate) absent: Vec<u32>,
}

impl Timestamps {
    /// A timestamp column from its parts (unchecked, like [`Column::from_parts`]).
    pub fn from_parts(values: Vec<i64>, absent: Vec<u32>) -> Self {
        Timestamps { values, absent }
    }
    /// Milliseconds since the Unix epoch, one per record (0 where absent).
    pub fn values(&self) -> &[i64] {
        &self.values
    }
    /// Records without a timestamp, by increasing index.
    pub fn absent(&self) -> &[u32] {
        &self.absent
    }
}

/// A column of strings (WIT `string-column`): item `i` is
/// `text[ends[i-1]..ends[i]]`, offsets in UTF-8 bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StringColumn {
    pub(crate) text: String,
    pub(crate) ends: Vec<u32>,
}

impl StringColumn {
    /// A column from its parts (unchecked, like [`Column::from_parts`]).
    pub fn from_parts(text: String, ends: Vec<u32>) -> Self {
        StringColumn { text, ends }
    }
    /// Every item, concatenated.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// `ends[i]`: the byte offset in [`StringColumn::text`] where item i ends.
    pub fn ends(&self) -> &[u32] {
        &self.ends
    }
    /// Items in the column.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    /// True when the column holds no item.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// Item i; `None` out of range or when its offsets are not valid (only
    /// possible in an unchecked column), so reading never panics.
    pub fn get(&self, i: usize) -> Option<&str> {
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        let end = *self.ends.get(i)?;
        self.text.get(start as usize..end as usize)
    }
    /// Append an item.
    pub fn push(&mut self, item: &str) {
        self.text.push_str(item);
        self.ends.push(self.text.len() as u32);
    }

    /// `n` items, ends never decreasing, the last at the end of the text,
    /// every end on a character boundary (so every item is a `&str`).
    fn check(&self, name: &str, n: usize) -> Result<(), String> {
        if self.ends.len() != n {
            return Err(format!("{} has {} items for {} metadata pairs", name, self.ends.len(), n));
        }
        let mut prev = 0u32;
        for (i, &end) in self.ends.iter().enumerate() {
            if end < prev {
                return Err(format!("{} offsets decrease at item {} ({} < {})", name, i, end, prev));
            }
            if !self.text.is_char_boundary(end as usize) {
                let why = if end as usize > self.text.len() {
                    "past the end of the text"
                } else {
                    "inside a character"
                };
                return Err(format!("{} offset {} of item {} is {}", name, end, i, why));
            }
            prev = end;
        }
        if prev as usize != self.text.len() {
            let len = self.text.len();
            return Err(format!("{} offsets end at {} but the text holds {} bytes", name, prev, len));
        }
        Ok(())
    }
}

/// Every metadata pair of a batch, in columns (WIT `metadata-column`): pair
/// i belongs to record `records[i]`, named `names[i]`, valued `values[i]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataColumn {
    pub(crate) records: Vec<u32>,
    pub(crate) names: StringColumn,
    pub(crate) values: StringColumn,
}

impl MetadataColumn {
    /// A metadata column from its parts (unchecked: see [`Batch::check`]).
    pub fn from_parts(records: Vec<u32>, names: StringColumn, values: StringColumn) -> Self {
        MetadataColumn { records, names, values }
    }
    /// The record of each pair, never decreasing.
    pub fn records(&self) -> &[u32] {
        &self.records
    }
    /// One name per pair.
    pub fn names(&self) -> &StringColumn {
        &self.names
    }
    /// One value per pair.
    pub fn values(&self) -> &StringColumn {
        &self.values
    }
    /// Pairs in the batch.
    pub fn len(&self) -> usize {
        self.records.len()
    }
    /// True when no record of the batch has metadata.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
    /// Pair i as (record, name, value); `None` out of range (or malformed).
    pub fn get(&self, i: usize) -> Option<(u32, &str, &str)> {
        Some((*self.records.get(i)?, self.names.get(i)?, self.values.get(i)?))
    }
    /// Append a pair of record `record` (pairs must be pushed in record order).
    pub fn push(&mut self, record: u32, name: &str, value: &str) {
        self.records.push(record);
        self.names.push(name);
        self.values.push(value);
    }
    /// The pairs of record i: the range of pair positions holding it.
    fn range_of(&self, i: usize) -> (usize, usize) {
        let lo = self.records.partition_point(|&r| (r as usize) < i);
        let hi = lo + self.records[lo..].partition_point(|&r| r as usize == i);
        (lo, hi)
    }

    fn check(&self, n: usize) -> Result<(), String> {
        let pairs = self.records.len();
        let mut prev = 0u32;
        for &r in &self.records {
            if r as usize >= n {
                return Err(format!("metadata record {} is out of range for {} records", r, n));
            }
            if r < prev {
                return Err(format!("metadata records decrease at {} (after {})", r, prev));
            }
            prev = r;
        }
        self.names.check("metadata names", pairs)?;
        self.values.check("metadata values", pairs)
    }
}

/// A batch of records in columns (WIT `batch`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    pub(crate) values: Column,
    pub(crate) keys: Option<Column>,
    pub(crate) timestamps: Option<Timestamps>,
    pub(crate) metadata: MetadataColumn,
}

impl Batch {
    /// A batch from its columns (unchecked: see [`Batch::check`]).
    pub fn from_parts(
        values: Column,
        keys: Option<Column>,
        timestamps: Option<Timestamps>,
        metadata: MetadataColumn,
    ) -> Self {
        Batch { values, keys, timestamps, metadata }
    }
    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    /// True when the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// The value column.
    pub fn values(&self) -> &Column {
        &self.values
    }
    /// The key column; `None` when no record has a key.
    pub fn keys(&self) -> Option<&Column> {
        self.keys.as_ref()
    }
    /// The timestamp column; `None` when no record has a timestamp.
    pub fn timestamps(&self) -> Option<&Timestamps> {
        self.timestamps.as_ref()
    }
    /// Every metadata pair, ordered by record.
    pub fn metadata(&self) -> &MetadataColumn {
        &self.metadata
    }

    /// A batch holding `records`, in order.
    pub fn from_records<'r>(records: impl IntoIterator<Item = &'r Record>) -> Batch {
        let mut b = BatchBuilder::new();
        for r in records {
            b.push(r);
        }
        b.finish()
    }

    /// Check the offsets and indices against the WIT's rules: a
    /// `serialization` error naming the first violation.
    pub fn check(&self) -> Result<(), PluginError> {
        self.check_inner().map_err(|e| PluginError::Serialization(format!("invalid batch: {}", e)))
    }

    fn check_inner(&self) -> Result<(), String> {
        let n = self.len();
        if n > u32::MAX as usize {
            return Err(format!("{} records is more than a batch can index", n));
        }
        if !self.values.absent.is_empty() {
            return Err("values absent is not empty".to_string());
        }
        self.values.check("values", n)?;
        if let Some(keys) = &self.keys {
            keys.check("keys", n)?;
        }
        if let Some(ts) = &self.timestamps {
            if ts.values.len() != n {
                return Err(format!("{} timestamps for {} records", ts.values.len(), n));
            }
            check_indices("timestamps absent", ts.absent.iter().copied(), n)?;
        }
        self.metadata.check(n)
    }

    /// Record i as a view (out-of-range i gives an empty record).
    pub fn record(&self, i: usize) -> RecordView<'_> {
        let (lo, hi) = self.metadata.range_of(i);
        RecordView {
            key: self.keys.as_ref().and_then(|k| k.get(i)),
            value: self.values.get(i).unwrap_or(&[]),
            timestamp: self.timestamps.as_ref().and_then(|t| {
                if t.absent.binary_search(&(i as u32)).is_ok() {
                    None
                } else {
                    t.values.get(i).copied()
                }
            }),
            metadata: Metadata(MetaInner::Column(&self.metadata, lo, hi)),
        }
    }

    /// Every record, in order, as views (walks the sparse lists once).
    pub fn records(&self) -> Records<'_> {
        Records { batch: self, i: 0, value_bin: 0, key_bin: 0, key_absent: 0, ts_absent: 0, meta: 0 }
    }
}

/// The iterator of [`Batch::records`].
pub struct Records<'a> {
    batch: &'a Batch,
    i: usize,
    value_bin: usize,
    key_bin: usize,
    key_absent: usize,
    ts_absent: usize,
    meta: usize,
}

/// Advance `cursor` past a sparse list entry for record `i`; true if there was one.
fn hit(list: &[u32], cursor: &mut usize, i: usize) -> bool {
    while *cursor < list.len() && (list[*cursor] as usize) < i {
        *cursor += 1;
    }
    if *cursor < list.len() && list[*cursor] as usize == i {
        *cursor += 1;
        true
    } else {
        false
    }
}

/// Like [`hit`] for a `binary` list: the bytes for record `i`, if listed.
fn hit_binary<'a>(list: &'a [(u32, Vec<u8>)], cursor: &mut usize, i: usize) -> Option<&'a [u8]> {
    while *cursor < list.len() && (list[*cursor].0 as usize) < i {
        *cursor += 1;
    }
    if *cursor < list.len() && list[*cursor].0 as usize == i {
        *cursor += 1;
        Some(&list[*cursor - 1].1)
    } else {
        None
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = RecordView<'a>;

    fn next(&mut self) -> Option<RecordView<'a>> {
        let b = self.batch;
        let i = self.i;
        if i >= b.len() {
            return None;
        }
        self.i += 1;
        let value = hit_binary(&b.values.binary, &mut self.value_bin, i)
            .unwrap_or_else(|| b.values.span(i));
        let key = match &b.keys {
            None => None,
            Some(k) if hit(&k.absent, &mut self.key_absent, i) => None,
            Some(k) => Some(hit_binary(&k.binary, &mut self.key_bin, i).unwrap_or_else(|| k.span(i))),
        };
        let timestamp = match &b.timestamps {
            None => None,
            Some(t) if hit(&t.absent, &mut self.ts_absent, i) => None,
            Some(t) => t.values.get(i).copied(),
        };
        let records = &b.metadata.records;
        while self.meta < records.len() && (records[self.meta] as usize) < i {
            self.meta += 1;
        }
        let start = self.meta;
        while self.meta < records.len() && records[self.meta] as usize == i {
            self.meta += 1;
        }
        let metadata = Metadata(MetaInner::Column(&b.metadata, start, self.meta));
        Some(RecordView { key, value, timestamp, metadata })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.batch.len() - self.i.min(self.batch.len());
        (left, Some(left))
    }
}

impl<'a> ExactSizeIterator for Records<'a> {}

/// One record, borrowed from a batch (or from a [`Record`]): nothing is copied.
#[derive(Clone, Copy, Debug)]
pub struct RecordView<'a> {
    /// Optional key, e.g. a partition or grouping key.
    pub key: Option<&'a [u8]>,
    /// The payload; the plugin decides how to interpret it.
    pub value: &'a [u8],
    /// Milliseconds since the Unix epoch, when known.
    pub timestamp: Option<i64>,
    /// Free-form string pairs, in order.
    pub metadata: Metadata<'a>,
}

impl<'a> RecordView<'a> {
    /// The first metadata value named `name`.
    pub fn metadata_get(&self, name: &str) -> Option<&'a str> {
        self.metadata.get(name)
    }
    /// The value decoded as a JSON object; otherwise a `serialization` error
    /// with the host's message ([`crate::json::parse_object`]).
    pub fn json(&self) -> Result<crate::json::Object, PluginError> {
        crate::json::parse_object(self.value)
    }
    /// An owned copy of the record.
    pub fn to_record(&self) -> Record {
        self.with_value(self.value.to_vec())
    }
    /// An owned record with this key, timestamp and metadata and a new value
    /// (the old value is not copied).
    pub fn with_value(&self, value: Vec<u8>) -> Record {
        Record {
            key: self.key.map(<[u8]>::to_vec),
            value,
            timestamp: self.timestamp,
            metadata: self.metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }
}

/// A record's metadata pairs, in order (borrowed).
#[derive(Clone, Copy, Debug)]
pub struct Metadata<'a>(MetaInner<'a>);

#[derive(Clone, Copy, Debug)]
enum MetaInner<'a> {
    /// Pairs `lo..hi` of a batch's metadata column.
    Column(&'a MetadataColumn, usize, usize),
    Pairs(&'a [(String, String)]),
}

impl<'a> Metadata<'a> {
    /// Pairs in order, repeats kept.
    pub fn iter(&self) -> MetadataIter<'a> {
        MetadataIter { inner: self.0, at: 0 }
    }
    /// The first value named `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
    /// Number of pairs.
    pub fn len(&self) -> usize {
        match self.0 {
            MetaInner::Column(_, lo, hi) => hi - lo,
            MetaInner::Pairs(p) => p.len(),
        }
    }
    /// True when the record has no metadata.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The iterator of [`Metadata::iter`]: `(name, value)` pairs.
pub struct MetadataIter<'a> {
    inner: MetaInner<'a>,
    at: usize,
}

impl<'a> Iterator for MetadataIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let at = self.at;
        self.at += 1;
        match self.inner {
            // A malformed item (only in an unchecked batch) reads as "".
            MetaInner::Column(c, lo, hi) => (lo + at < hi).then(|| {
                (c.names.get(lo + at).unwrap_or(""), c.values.get(lo + at).unwrap_or(""))
            }),
            MetaInner::Pairs(p) => p.get(at).map(|(k, v)| (k.as_str(), v.as_str())),
        }
    }
}

impl Record {
    /// This record as a view (what the per-record trait methods take).
    pub fn view(&self) -> RecordView<'_> {
        RecordView {
            key: self.key.as_deref(),
            value: &self.value,
            timestamp: self.timestamp,
            metadata: Metadata(MetaInner::Pairs(&self.metadata)),
        }
    }
}

/// One column under construction.
#[derive(Default)]
struct ColumnBuilder {
    col: Column,
}

impl ColumnBuilder {
    fn push(&mut self, item: Option<&[u8]>) {
        let index = self.col.ends.len() as u32;
        match item {
            None => self.col.absent.push(index),
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(s) => self.col.text.push_str(s),
                Err(_) => self.col.binary.push((index, bytes.to_vec())),
            },
        }
        self.col.ends.push(self.col.text.len() as u32);
    }

    fn push_str(&mut self, s: &str) {
        self.col.text.push_str(s);
        self.col.ends.push(self.col.text.len() as u32);
    }
}

/// Builds an output [`Batch`] record by record.
#[derive(Default)]
pub struct BatchBuilder {
    values: ColumnBuilder,
    keys: ColumnBuilder,
    any_key: bool,
    timestamps: Timestamps,
    any_timestamp: bool,
    metadata: MetadataColumn,
}

impl BatchBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        BatchBuilder::default()
    }

    /// Records pushed so far.
    pub fn len(&self) -> usize {
        self.values.col.ends.len()
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append one record (its value is copied into the batch's text).
    pub fn push(&mut self, record: &Record) {
        self.push_view(record.view())
    }

    /// Append one record from a view (e.g. an input record passed through).
    pub fn push_view(&mut self, record: RecordView<'_>) {
        self.push_parts(record.key, record.value, record.timestamp, record.metadata.iter())
    }

    /// Append one record from its parts.
    pub fn push_parts<'m>(
        &mut self,
        key: Option<&[u8]>,
        value: &[u8],
        timestamp: Option<i64>,
        metadata: impl IntoIterator<Item = (&'m str, &'m str)>,
    ) {
        let index = self.len() as u32;
        self.values.push(Some(value));
        self.finish_record(index, key, timestamp, metadata);
    }

    /// Append one record whose value is text (no UTF-8 check needed).
    pub fn push_text<'m>(
        &mut self,
        key: Option<&[u8]>,
        value: &str,
        timestamp: Option<i64>,
        metadata: impl IntoIterator<Item = (&'m str, &'m str)>,
    ) {
        let index = self.len() as u32;
        self.values.push_str(value);
        self.finish_record(index, key, timestamp, metadata);
    }

    /// Append an empty record: the placeholder for a record that failed.
    pub fn push_empty(&mut self) {
        self.push_parts(None, &[], None, std::iter::empty())
    }

    fn finish_record<'m>(
        &mut self,
        index: u32,
        key: Option<&[u8]>,
        timestamp: Option<i64>,
        metadata: impl IntoIterator<Item = (&'m str, &'m str)>,
    ) {
        self.any_key |= key.is_some();
        self.keys.push(key);
        self.any_timestamp |= timestamp.is_some();
        match timestamp {
            Some(t) => self.timestamps.values.push(t),
            None => {
                self.timestamps.values.push(0);
                self.timestamps.absent.push(index);
            }
        }
        for (name, value) in metadata {
            self.metadata.push(index, name, value);
        }
    }

    /// The batch; columns no record uses are left out (`none`).
    pub fn finish(self) -> Batch {
        Batch {
            values: self.values.col,
            keys: if self.any_key { Some(self.keys.col) } else { None },
            timestamps: if self.any_timestamp { Some(self.timestamps) } else { None },
            metadata: self.metadata,
        }
    }
}

/// The error of one record of a batch (WIT `record-error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    /// The record's position in the batch.
    pub index: u32,
    pub error: PluginError,
}

/// A filter's answer for a batch (WIT `filter-outcome`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterOutcome {
    /// One bit per record, least significant bit first.
    pub keep: Vec<u8>,
    /// Records that failed; their bit is ignored.
    pub errors: Vec<RecordError>,
}

impl FilterOutcome {
    /// An outcome for `n` records, all dropped and none failed.
    pub fn new(n: usize) -> Self {
        FilterOutcome { keep: vec![0; (n + 7) / 8], errors: Vec::new() }
    }
    /// Record i's outcome (indices past the bitmap grow it).
    pub fn set(&mut self, i: usize, outcome: Result<bool, PluginError>) {
        match outcome {
            Ok(keep) => self.set_keep(i, keep),
            Err(error) => self.errors.push(RecordError { index: i as u32, error }),
        }
    }
    /// Keep (or drop) record i.
    pub fn set_keep(&mut self, i: usize, keep: bool) {
        if i / 8 >= self.keep.len() {
            self.keep.resize(i / 8 + 1, 0);
        }
        let bit = 1u8 << (i % 8);
        if keep {
            self.keep[i / 8] |= bit;
        } else {
            self.keep[i / 8] &= !bit;
        }
    }
    /// Whether bit i is set.
    pub fn keeps(&self, i: usize) -> bool {
        self.keep.get(i / 8).map_or(false, |b| b & (1 << (i % 8)) != 0)
    }
    /// Every record of an `n`-record batch failed with `error`.
    pub fn failed(n: usize, error: &PluginError) -> Self {
        FilterOutcome { keep: vec![0; (n + 7) / 8], errors: fail_all(n, error) }
    }
}

/// A transform's answer for a batch (WIT `transform-outcome`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransformOutcome {
    /// One record per input record; a failed record's place is empty.
    pub records: Batch,
    pub errors: Vec<RecordError>,
}

impl TransformOutcome {
    /// Every record of an `n`-record batch failed with `error`.
    pub fn failed(n: usize, error: &PluginError) -> Self {
        let mut b = BatchBuilder::new();
        for _ in 0..n {
            b.push_empty();
        }
        TransformOutcome { records: b.finish(), errors: fail_all(n, error) }
    }
}

/// The result of folding a batch (WIT `fold-outcome`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldOutcome {
    pub accumulator: Vec<u8>,
    /// Records that failed (they were not folded in).
    pub errors: Vec<RecordError>,
}

/// What a source's `read` found (WIT `read-outcome`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Records, at least one.
    Records(Batch),
    /// Nothing now; the host asks again later.
    Pending,
    /// The end of the stream.
    End,
}

/// `error` for each of `n` records.
pub fn fail_all(n: usize, error: &PluginError) -> Vec<RecordError> {
    (0..n as u32).map(|index| RecordError { index, error: error.clone() }).collect()
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
