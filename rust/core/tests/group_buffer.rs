//! The group buffer: rows appended in chunks, in any order, train exactly as `trainGroups` and
//! `searchGroups` train the same groups in one batch.

#![allow(clippy::unwrap_used)]

mod common;

use arrow_array::{Array, BinaryArray, Float64Array, Int32Array, Int64Array, StringArray};
use arrow_buffer::Buffer;
use serde_json::json;

use common::batches::Columns;
use manyfold_core::batch::read_stream;
use manyfold_core::group_buffer::GroupBuffer;
use manyfold_core::search::search_groups_ipc;
use manyfold_core::train::{train_ipc, TrainOptions, Trainer};
use manyfold_core::Error;

const MAX: u64 = 1_000;
const OPTIONS: TrainOptions = TrainOptions { threads: 2, max_rows_per_group: MAX };

/// A deterministic generator (SplitMix64) for the data and the orders.
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn shuffle(&mut self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// 6 groups of 40 rows (group 4 with a null feature, group 5 with 1 row) of a weighted linear or
/// logistic model with 3 features, rows of the groups interleaved.
fn data(logistic: bool) -> Columns {
    let mut mix = Mix(7);
    let (mut group, mut label, mut weight) = (Vec::new(), Vec::new(), Vec::new());
    let mut features = vec![Vec::new(); 3];
    for i in 0..201 {
        let g = if i == 200 { 5 } else { i % 5 };
        let x: Vec<f64> = (0..3).map(|_| mix.unit() * 4.0 - 2.0).collect();
        let z = (g as f64 + 1.0) * x[0] - 0.5 * x[1] + 0.25 * x[2] + 0.3 * (mix.unit() - 0.5);
        group.push(g);
        label.push(Some(if logistic { f64::from(u8::from(z > 0.2)) } else { z }));
        weight.push(Some(0.5 + mix.unit()));
        for (j, v) in x.into_iter().enumerate() {
            features[j].push(if g == 4 && i == 9 && j == 1 { None } else { Some(v) });
        }
    }
    Columns {
        group: Some(group),
        label: Some(label),
        weight: Some(weight),
        features,
        ..Columns::default()
    }
}

/// The rows of `c` in a shuffled order, cut into chunks of at most `chunk` rows; group ids are
/// renumbered in order of first appearance (as a task numbers them), `ids[new] = old`.
fn shuffled_chunks(c: &Columns, seed: u64, chunk: usize) -> (Vec<Buffer>, Vec<i32>) {
    let mut order: Vec<usize> = (0..c.rows()).collect();
    Mix(seed).shuffle(&mut order);
    let mut shuffled = c.select(&order);
    let mut ids: Vec<i32> = Vec::new();
    let groups = shuffled.group.as_mut().unwrap();
    for g in groups.iter_mut() {
        let new = ids.iter().position(|o| o == g).unwrap_or_else(|| {
            ids.push(*g);
            ids.len() - 1
        });
        *g = new as i32;
    }
    let chunks = (0..order.len())
        .step_by(chunk)
        .map(|s| shuffled.select(&(s..(s + chunk).min(order.len())).collect::<Vec<_>>()).buffer())
        .collect();
    (chunks, ids)
}

/// Per group (by the original id): status, error, model bytes, rows and the columns after
/// `train_ms` (metrics, convergence, a search's best set), train_ms left out.
type Outcome = (String, Option<String>, Option<Vec<u8>>, i64, Vec<String>);

fn outcomes(results: &[u8], ids: Option<&[i32]>) -> Vec<(i32, Outcome)> {
    let batch = read_stream(Buffer::from_slice_ref(results)).unwrap();
    let col = |name: &str| batch.column_by_name(name).unwrap().clone();
    let group = col("group");
    let group = group.as_any().downcast_ref::<Int32Array>().unwrap();
    let status = col("status");
    let status = status.as_any().downcast_ref::<StringArray>().unwrap();
    let error = col("error");
    let error = error.as_any().downcast_ref::<StringArray>().unwrap();
    let model = col("model");
    let model = model.as_any().downcast_ref::<BinaryArray>().unwrap();
    let rows = col("rows");
    let rows = rows.as_any().downcast_ref::<Int64Array>().unwrap();
    let rest: Vec<_> = batch
        .schema()
        .fields()
        .iter()
        .enumerate()
        .skip_while(|(_, f)| f.name() != "converged")
        .map(|(i, _)| batch.column(i).clone())
        .collect();
    let mut out: Vec<(i32, Outcome)> = (0..batch.num_rows())
        .map(|i| {
            let g = group.value(i);
            let original = ids.map_or(g, |ids| ids[g as usize]);
            let others = rest
                .iter()
                .map(|c| match c.as_any().downcast_ref::<Float64Array>() {
                    // Bits, not values: "bit-identical".
                    Some(f) if f.is_valid(i) => format!("{:x}", f.value(i).to_bits()),
                    _ => format!("{:?}", c.slice(i, 1)),
                })
                .collect();
            let outcome = (
                status.value(i).to_string(),
                error.is_valid(i).then(|| error.value(i).to_string()),
                model.is_valid(i).then(|| model.value(i).to_vec()),
                rows.value(i),
                others,
            );
            (original, outcome)
        })
        .collect();
    out.sort_by_key(|(g, _)| *g);
    out
}

fn buffered(chunks: Vec<Buffer>, max: u64) -> GroupBuffer {
    let mut buffer = GroupBuffer::new(max).unwrap();
    for chunk in chunks {
        buffer.append_ipc(chunk).unwrap();
    }
    buffer
}

#[test]
fn chunks_in_any_order_train_as_one_batch_does() {
    for (algorithm, logistic) in [("linear", false), ("logistic", true)] {
        let c = data(logistic);
        let trainer = Trainer::new(algorithm, "{}").unwrap();
        let expected = outcomes(&train_ipc(&trainer, OPTIONS, c.buffer()).unwrap(), None);
        assert_eq!(expected.len(), 6);
        assert_eq!(expected.iter().filter(|(_, o)| o.0 == "ok").count(), 4, "{expected:?}");
        for (seed, chunk) in [(1, 201), (2, 16), (3, 7), (4, 50)] {
            let (chunks, ids) = shuffled_chunks(&c, seed, chunk);
            let mut buffer = buffered(chunks, MAX);
            assert_eq!(buffer.num_groups(), 6);
            let got = outcomes(&buffer.train_ipc(&trainer, 2).unwrap(), Some(&ids));
            assert_eq!(got, expected, "{algorithm}, seed {seed}, chunks of {chunk}");
        }
    }
}

#[test]
fn a_search_over_buffered_groups_is_that_of_one_batch() {
    let c = data(false);
    let search = json!({
        "algorithm": "linear",
        "paramSets": [{"regParam": 0.0}, {"regParam": 0.5}],
        "metric": {"name": "rmse"}
    })
    .to_string();
    let folds = r#"{"kind": "kfold", "k": 3, "seed": 5}"#;
    let expected = outcomes(&search_groups_ipc(&search, folds, OPTIONS, c.buffer()).unwrap(), None);
    assert!(expected.iter().any(|(_, o)| o.0 == "ok"));
    for seed in [11, 12] {
        let (chunks, ids) = shuffled_chunks(&c, seed, 9);
        let got =
            outcomes(&buffered(chunks, MAX).search_ipc(&search, folds, 2).unwrap(), Some(&ids));
        assert_eq!(got, expected, "seed {seed}");
    }
}

#[test]
fn a_group_over_the_limit_fails_and_the_others_train() {
    let c = data(false);
    let trainer = Trainer::new("linear", "{}").unwrap();
    // Each of groups 0..4 has 40 rows; at most 39 per group.
    let (chunks, ids) = shuffled_chunks(&c, 3, 10);
    let got = outcomes(&buffered(chunks, 39).train_ipc(&trainer, 1).unwrap(), Some(&ids));
    let limited = TrainOptions { threads: 1, max_rows_per_group: 39 };
    let expected = outcomes(&train_ipc(&trainer, limited, c.buffer()).unwrap(), None);
    assert_eq!(got, expected);
    let (status, error, model, rows, _) = &got[0].1;
    assert_eq!((status.as_str(), model, *rows), ("failed", &None, 40));
    assert_eq!(error.as_deref(), Some("group has 40 rows, more than maxRowsPerGroup=39"));
    // The 1-row group is under the limit: it fails for its size the other way.
    assert!(got[5].1 .1.as_deref().unwrap_or_default().contains("row"), "{:?}", got[5]);
}

#[test]
fn chunks_of_other_columns_bad_ids_and_a_second_training_are_refused() {
    let c = data(false);
    let trainer = Trainer::new("linear", "{}").unwrap();
    let mut buffer = GroupBuffer::new(MAX).unwrap();
    buffer.append_ipc(c.select(&[0, 1, 2]).buffer()).unwrap();
    let unweighted = Columns { weight: None, ..c.select(&[3, 4]) };
    let e = buffer.append_ipc(unweighted.buffer()).unwrap_err();
    assert!(matches!(e, Error::Schema { .. }) && e.to_string().contains("other columns"), "{e}");
    // 3 groups known, 2 rows: ids up to 4 can be new, 5 cannot.
    let far = Columns { group: Some(vec![0, 5]), ..c.select(&[3, 4]) };
    assert!(matches!(buffer.append_ipc(far.buffer()), Err(Error::Schema { .. })));
    assert!(GroupBuffer::new(0).is_err());
    assert_eq!(outcomes(&buffer.train_ipc(&trainer, 1).unwrap(), None).len(), 3);
    let again = buffer.train_ipc(&trainer, 1).unwrap_err().to_string();
    assert!(again.contains("trained already"), "{again}");
    assert!(buffer.append_ipc(c.select(&[5]).buffer()).is_err());
    // An empty buffer trains nothing.
    let empty = outcomes(&GroupBuffer::new(MAX).unwrap().train_ipc(&trainer, 1).unwrap(), None);
    assert!(empty.is_empty());
    // Unsupervised rows for a supervised algorithm: the call fails, as trainGroups does.
    let unlabelled = Columns { label: None, ..c.select(&[0, 1, 2]) };
    let mut b = GroupBuffer::new(MAX).unwrap();
    b.append_ipc(unlabelled.buffer()).unwrap();
    assert!(matches!(b.train_ipc(&trainer, 1), Err(Error::Schema { .. })));
}

/// Chunks numbered as packed shuffle records number them: each chunk's `group` column counts
/// its own groups from 0 in order of first appearance, and a map (`local -> buffer id`, buffer
/// ids in order of first appearance over all chunks) comes with it.
#[test]
fn chunks_with_their_own_group_numbering_train_as_one_batch_does() {
    let c = data(false);
    let trainer = Trainer::new("linear", "{}").unwrap();
    let expected = outcomes(&train_ipc(&trainer, OPTIONS, c.buffer()).unwrap(), None);
    let mut order: Vec<usize> = (0..c.rows()).collect();
    Mix(21).shuffle(&mut order);
    let original = c.group.clone().unwrap();
    let mut buffer = GroupBuffer::new(MAX).unwrap();
    let mut buffer_ids: Vec<i32> = Vec::new(); // buffer id -> original group
    for rows in order.chunks(13) {
        let mut chunk = c.select(rows);
        let mut local: Vec<i32> = Vec::new(); // local id -> original group
        for g in chunk.group.as_mut().unwrap().iter_mut() {
            let at = local.iter().position(|o| o == g).unwrap_or_else(|| {
                local.push(*g);
                local.len() - 1
            });
            *g = at as i32;
        }
        let map: Vec<i32> = local
            .iter()
            .map(|o| {
                let at = buffer_ids.iter().position(|b| b == o).unwrap_or_else(|| {
                    buffer_ids.push(*o);
                    buffer_ids.len() - 1
                });
                at as i32
            })
            .collect();
        buffer.append_ipc_mapped(chunk.buffer(), &map).unwrap();
    }
    assert_eq!(buffer_ids.len(), 6);
    assert!(original.iter().all(|g| buffer_ids.contains(g)));
    let got = outcomes(&buffer.train_ipc(&trainer, 2).unwrap(), Some(&buffer_ids));
    assert_eq!(got, expected);

    // A local id outside the map, a negative buffer id, and one past the ids a chunk may add are
    // refused, and the buffer keeps nothing of those chunks.
    let mut b = GroupBuffer::new(MAX).unwrap();
    let two = Columns { group: Some(vec![0, 1]), ..c.select(&[0, 1]) };
    for map in [&[0][..], &[0, -1], &[0, 2]] {
        let e = b.append_ipc_mapped(two.buffer(), map).unwrap_err();
        assert!(matches!(e, Error::Schema { .. }), "{map:?}: {e}");
        assert_eq!(b.num_groups(), 0, "{map:?}");
    }
    b.append_ipc_mapped(two.buffer(), &[1, 0]).unwrap();
    assert_eq!(b.num_groups(), 2);
}
