//! Is a well-kept crate's CSV state machine faster than nayose's own
//! reader? `csv-core` (the engine of the `csv` crate) against
//! `import::read_bytes`, on 100,000 generated BtoC customer rows (UTF-8):
//! both turn the bytes into one `String` per field, rows of fields, and the
//! physical line each record starts on — what a `Table` needs. csv-core does
//! only that; nayose's reader also checks the column count, the field size
//! limit and NUL bytes, and recovers from a quote that is never closed.
//!
//! `cargo bench --bench csv_reader`

use criterion::{criterion_group, criterion_main, Criterion};
use nayose::gen::{self, GenOptions, Kind};
use nayose::import::{self, Format, ReadOptions};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn customers() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (data, truth) = (dir.path().join("d.csv"), dir.path().join("t.csv"));
    let g = gen::generate(&GenOptions::new(Kind::BtoC, 100_000, 1));
    gen::write(&g, &data, &truth).unwrap();
    std::fs::read(data).unwrap()
}

/// Records as csv-core splits them: (line, fields).
fn csv_core_rows(input: &[u8]) -> Vec<(usize, Vec<String>)> {
    use csv_core::{ReadRecordResult, Reader};
    let mut reader = Reader::new();
    let mut rows = Vec::new();
    let mut out = vec![0u8; 1 << 16];
    let mut ends = vec![0usize; 64];
    let (mut pos, mut line) = (0usize, 1usize);
    let (mut outlen, mut nends) = (0usize, 0usize);
    let mut record_line = 1;
    loop {
        let (result, nin, nout, nend) =
            reader.read_record(&input[pos..], &mut out[outlen..], &mut ends[nends..]);
        line += input[pos..pos + nin]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        pos += nin;
        outlen += nout;
        nends += nend;
        match result {
            ReadRecordResult::InputEmpty => {}
            ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
            ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            ReadRecordResult::Record => {
                let mut fields = Vec::with_capacity(nends);
                let mut start = 0;
                for &end in &ends[..nends] {
                    let f = std::str::from_utf8(&out[start..end]).expect("UTF-8");
                    fields.push(f.to_string());
                    start = end;
                }
                rows.push((record_line, fields));
                // csv-core leaves the record's line end to the next call: step
                // over line ends here so the next record's line is known.
                while pos < input.len() && matches!(input[pos], b'\r' | b'\n') {
                    line += usize::from(input[pos] == b'\n');
                    pos += 1;
                }
                record_line = line;
                outlen = 0;
                nends = 0;
            }
            ReadRecordResult::End => break,
        }
    }
    rows
}

fn readers(c: &mut Criterion) {
    let bytes = customers();
    let ours = import::read_bytes(&bytes, Format::Csv, &ReadOptions::default()).unwrap();
    let theirs = csv_core_rows(&bytes);
    // The same records, fields and lines (csv-core's first is the header).
    assert_eq!(theirs.len(), ours.rows.len() + 1);
    for (row, (line, fields)) in ours.rows.iter().zip(&theirs[1..]) {
        assert_eq!((row.line, &row.fields), (*line, fields));
    }
    let mut g = c.benchmark_group("csv_100k_rows");
    g.sample_size(20);
    g.bench_function("nayose import::read_bytes", |b| {
        b.iter(|| import::read_bytes(&bytes, Format::Csv, &ReadOptions::default()).unwrap())
    });
    g.bench_function("csv-core split", |b| b.iter(|| csv_core_rows(&bytes)));
    // What a reader over csv-core would do at the least before splitting:
    // tell UTF-8 from CP932 (nayose's reader checks the whole file).
    g.bench_function("csv-core split after the encoding check", |b| {
        b.iter(|| {
            assert!(std::str::from_utf8(&bytes).is_ok());
            csv_core_rows(&bytes)
        })
    });
    g.bench_function("the encoding check alone", |b| {
        b.iter(|| std::str::from_utf8(&bytes).is_ok())
    });
    g.finish();
}

criterion_group!(benches, readers);
criterion_main!(benches);
