//! `rustvol-store-ceiling`: the raw speed of a store through `object_store` alone, with no HDF5
//! and no rustvol in the way: the ceiling that rustvol's figures on the same store are compared
//! with (`scripts/bench.sh`).
//!
//! It builds the store as rustvol does (`AmazonS3Builder::from_env`, path-style, plain HTTP
//! allowed; or `LocalFileSystem` under a root directory), runs the I/O on a two-worker tokio
//! runtime that the main thread waits on (as rustvol's calls do), and for each case
//! `SIZE:COUNT:CONCURRENCY` PUTs COUNT distinct objects of SIZE bytes with CONCURRENCY requests
//! in flight, then GETs them back the same way, then deletes them.
//!
//! Every object holds different bytes (little-endian doubles counting up, as `bench/h5bench`
//! writes), so a store that deduplicates or compresses blocks (Garage does both) sees the same
//! kind of data as in the benchmark, not one block repeated.
//!
//! Output: one JSON object per line on standard output, e.g.
//! `{"store":"s3","object_size":4194304,"count":64,"concurrency":32,"op":"put","bytes":268435456,"seconds":0.8}`
//! and a readable line per measurement on standard error.
//!
//! Usage:
//!   rustvol-store-ceiling --store s3 --bucket B --endpoint http://127.0.0.1:3900 [--region garage] [--prefix P]
//!   rustvol-store-ceiling --store dir --root DIR
//!   options: --case SIZE:COUNT:CONC (repeatable; default 4194304:64:32 4194304:64:1 1024:2000:1 1024:2000:32)
//!            --rounds N (default 1; each case repeated, every round reported)
//!
//! S3 credentials come from the standard AWS environment variables, as for rustvol.
use bytes::Bytes;
use futures::{stream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

struct Case {
    size: usize,
    count: usize,
    concurrency: usize,
}

struct Args {
    store: String,
    root: Option<String>,
    bucket: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    prefix: String,
    cases: Vec<Case>,
    rounds: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: rustvol-store-ceiling --store s3|dir [--bucket B --endpoint URL --region R --prefix P | --root DIR]\n\
         \x20                            [--case SIZE:COUNT:CONCURRENCY]... [--rounds N]"
    );
    std::process::exit(64)
}

fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last()? {
        (i, 'K' | 'k') => (&s[..i], 1024),
        (i, 'M' | 'm') => (&s[..i], 1024 * 1024),
        _ => (s, 1),
    };
    num.parse::<usize>().ok().map(|n| n * mult)
}

fn parse_args() -> Args {
    let mut a = Args {
        store: String::new(),
        root: None,
        bucket: None,
        endpoint: None,
        region: None,
        prefix: String::new(),
        cases: Vec::new(),
        rounds: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| usage());
        match k.as_str() {
            "--store" => a.store = v(),
            "--root" => a.root = Some(v()),
            "--bucket" => a.bucket = Some(v()),
            "--endpoint" => a.endpoint = Some(v()),
            "--region" => a.region = Some(v()),
            "--prefix" => a.prefix = v(),
            "--rounds" => a.rounds = v().parse().unwrap_or_else(|_| usage()),
            "--case" => {
                let s = v();
                let p: Vec<&str> = s.split(':').collect();
                let (Some(size), Some(count), Some(concurrency)) = (
                    p.first().and_then(|x| parse_size(x)),
                    p.get(1).and_then(|x| x.parse().ok()),
                    p.get(2).and_then(|x| x.parse().ok()),
                ) else {
                    usage()
                };
                if size == 0 || count == 0 || concurrency == 0 {
                    usage()
                }
                a.cases.push(Case { size, count, concurrency });
            }
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    if a.cases.is_empty() {
        for (size, count, concurrency) in [(4 << 20, 64, 32), (4 << 20, 64, 1), (1024, 2000, 1), (1024, 2000, 32)] {
            a.cases.push(Case { size, count, concurrency });
        }
    }
    a
}

fn build(a: &Args) -> Result<Arc<dyn ObjectStore>, String> {
    match a.store.as_str() {
        "dir" => {
            let root = a.root.as_deref().ok_or("--store dir needs --root")?;
            std::fs::create_dir_all(root).map_err(|e| format!("cannot create {root}: {e}"))?;
            Ok(Arc::new(LocalFileSystem::new_with_prefix(root).map_err(|e| e.to_string())?))
        }
        "s3" => {
            let bucket = a.bucket.as_deref().ok_or("--store s3 needs --bucket")?;
            let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket).with_virtual_hosted_style_request(false);
            let http = a.endpoint.as_deref().is_some_and(|e| e.starts_with("http://"));
            b = b.with_client_options(ClientOptions::new().with_allow_http(http));
            b = b.with_region(a.region.as_deref().unwrap_or("us-east-1"));
            if let Some(e) = &a.endpoint {
                b = b.with_endpoint(e);
            }
            Ok(Arc::new(b.build().map_err(|e| e.to_string())?))
        }
        _ => Err("--store must be s3 or dir".into()),
    }
}

/// Distinct contents per object: doubles counting up from the object's first element.
fn payload(obj: usize, size: usize) -> Bytes {
    let mut v = Vec::with_capacity(size);
    let first = (obj * size / 8) as u64;
    let mut i = 0u64;
    while v.len() + 8 <= size {
        v.extend_from_slice(&((first + i) as f64 + 0.5).to_le_bytes());
        i += 1;
    }
    v.resize(size, 0xa5);
    Bytes::from(v)
}

fn emit(store: &str, c: &Case, round: usize, op: &str, secs: f64) {
    let bytes = (c.size * c.count) as f64;
    println!(
        "{{\"store\":\"{store}\",\"object_size\":{},\"count\":{},\"concurrency\":{},\"round\":{round},\"op\":\"{op}\",\"bytes\":{bytes:.0},\"seconds\":{secs:.6}}}",
        c.size, c.count, c.concurrency
    );
    eprintln!(
        "  {store:<4} {op:<4} {:>9} B x {:<5} {:>3} in flight: {:>9.1} MB/s {:>9.0} objects/s",
        c.size,
        c.count,
        c.concurrency,
        bytes / 1e6 / secs,
        c.count as f64 / secs
    );
}

fn main() -> ExitCode {
    let a = parse_args();
    let store = match build(&a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rustvol-store-ceiling: {e}");
            return ExitCode::from(2);
        }
    };
    // As in rustvol: the futures run on two worker threads; the calling thread waits.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let base = format!(
        "{}{}ceiling-{}",
        a.prefix.trim_matches('/'),
        if a.prefix.trim_matches('/').is_empty() { "" } else { "/" },
        std::process::id()
    );
    let mut status = ExitCode::SUCCESS;
    for (ci, c) in a.cases.iter().enumerate() {
        let data: Vec<Bytes> = (0..c.count).map(|i| payload(i, c.size)).collect();
        for round in 0..a.rounds {
            let paths: Vec<Path> =
                (0..c.count).map(|i| Path::from(format!("{base}/case{ci}/r{round}/{i}"))).collect();
            let r: Result<(), object_store::Error> = rt.block_on(async {
                let t = Instant::now();
                stream::iter(paths.iter().zip(&data))
                    .map(|(p, d)| {
                        let store = &store;
                        async move { store.put(p, PutPayload::from(d.clone())).await.map(|_| ()) }
                    })
                    .buffer_unordered(c.concurrency)
                    .try_collect::<Vec<()>>()
                    .await?;
                emit(&a.store, c, round, "put", t.elapsed().as_secs_f64());
                let t = Instant::now();
                let got: Vec<usize> = stream::iter(paths.iter())
                    .map(|p| {
                        let store = &store;
                        async move { Ok::<usize, object_store::Error>(store.get(p).await?.bytes().await?.len()) }
                    })
                    .buffer_unordered(c.concurrency)
                    .try_collect()
                    .await?;
                emit(&a.store, c, round, "get", t.elapsed().as_secs_f64());
                if got.iter().any(|&n| n != c.size) {
                    eprintln!("rustvol-store-ceiling: an object came back with the wrong size");
                }
                stream::iter(paths.iter())
                    .map(|p| {
                        let store = &store;
                        async move { store.delete(p).await }
                    })
                    .buffer_unordered(32)
                    .try_collect::<Vec<()>>()
                    .await?;
                Ok(())
            });
            if let Err(e) = r {
                eprintln!("rustvol-store-ceiling: {} store: {e}", a.store);
                status = ExitCode::from(1);
            }
        }
    }
    // A directory store keeps the emptied directories of the deleted objects.
    if let (Some(root), "dir") = (&a.root, a.store.as_str()) {
        let _ = std::fs::remove_dir_all(std::path::Path::new(root).join(&base));
    }
    status
}
