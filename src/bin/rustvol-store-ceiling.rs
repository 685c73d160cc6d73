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
//!            --writers N (default 1): N processes, each with its own client and runtime as N MPI
//!              ranks have, share each case's COUNT objects; the figure is their aggregate, every
//!              byte over the time from the start of a step (all PUTs, then all GETs) on every
//!              writer to its end on the last one
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
    /// Processes PUTting and GETting each case's objects together (`run_writers`).
    writers: usize,
    /// In one of those processes: its index and the id of the process that started it.
    writer: Option<(usize, u32)>,
}

fn usage() -> ! {
    eprintln!(
        "usage: rustvol-store-ceiling --store s3|dir [--bucket B --endpoint URL --region R --prefix P | --root DIR]\n\
         \x20                            [--case SIZE:COUNT:CONCURRENCY]... [--rounds N] [--writers N]"
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
        writers: 1,
        writer: None,
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
            "--writers" => a.writers = v().parse().ok().filter(|&n| n > 0).unwrap_or_else(|| usage()),
            "--writer" => {
                let s = v();
                let (w, p) = s.split_once(':').unwrap_or_else(|| usage());
                a.writer = Some((w.parse().unwrap_or_else(|_| usage()), p.parse().unwrap_or_else(|_| usage())));
            }
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

fn emit(store: &str, c: &Case, writers: usize, round: usize, op: &str, secs: f64) {
    let bytes = (c.size * c.count) as f64;
    println!(
        "{{\"store\":\"{store}\",\"object_size\":{},\"count\":{},\"concurrency\":{},\"writers\":{writers},\"round\":{round},\"op\":\"{op}\",\"bytes\":{bytes:.0},\"seconds\":{secs:.6}}}",
        c.size, c.count, c.concurrency
    );
    eprintln!(
        "  {store:<4} {op:<4} {:>9} B x {:<5} {:>3} in flight x {writers} writer(s): {:>9.1} MB/s {:>9.0} objects/s",
        c.size,
        c.count,
        c.concurrency,
        bytes / 1e6 / secs,
        c.count as f64 / secs
    );
}

/// How a process of `--writers N` learns that every writer is at the same step: one line on
/// standard output when it reaches a step ("ready", or the seconds its step took), then it waits
/// for one line on standard input before going on. Alone (no `--writer`), no waiting.
struct Steps {
    child: bool,
}

impl Steps {
    fn reach(&self, line: &str) -> bool {
        if !self.child {
            return true;
        }
        use std::io::{BufRead, Write};
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return false;
        }
        let mut go = String::new();
        std::io::stdin().lock().read_line(&mut go).is_ok_and(|n| n > 0)
    }
}

/// This process's share of case `c` when it is writer `w` of `n`: the objects from `first`.
fn share(c: &Case, w: usize, n: usize) -> (usize, usize) {
    let first = c.count * w / n;
    (first, c.count * (w + 1) / n - first)
}

fn main() -> ExitCode {
    let a = parse_args();
    if a.writers > 1 && a.writer.is_none() {
        return run_writers(&a);
    }
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
    // Writers of one run share the parent's id, so the cases' objects are one set.
    let id = a.writer.map_or(std::process::id(), |(_, parent)| parent);
    let base = format!(
        "{}{}ceiling-{id}",
        a.prefix.trim_matches('/'),
        if a.prefix.trim_matches('/').is_empty() { "" } else { "/" },
    );
    let steps = Steps { child: a.writer.is_some() };
    let w = a.writer.map_or(0, |(w, _)| w);
    let mut status = ExitCode::SUCCESS;
    for (ci, c) in a.cases.iter().enumerate() {
        let (first, mine) = share(c, w, a.writers);
        let data: Vec<Bytes> = (first..first + mine).map(|i| payload(i, c.size)).collect();
        for round in 0..a.rounds {
            let paths: Vec<Path> =
                (first..first + mine).map(|i| Path::from(format!("{base}/case{ci}/r{round}/{i}"))).collect();
            if !steps.reach("ready") {
                return ExitCode::from(1);
            }
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
                Ok(t.elapsed().as_secs_f64())
            })
            .and_then(|secs| {
                if steps.child {
                    steps.reach(&format!("{secs}"));
                } else {
                    emit(&a.store, c, 1, round, "put", secs);
                }
                rt.block_on(async {
                    let t = Instant::now();
                    let got: Vec<usize> = stream::iter(paths.iter())
                        .map(|p| {
                            let store = &store;
                            async move { Ok::<usize, object_store::Error>(store.get(p).await?.bytes().await?.len()) }
                        })
                        .buffer_unordered(c.concurrency)
                        .try_collect()
                        .await?;
                    let secs = t.elapsed().as_secs_f64();
                    if steps.child {
                        steps.reach(&format!("{secs}"));
                    } else {
                        emit(&a.store, c, 1, round, "get", secs);
                    }
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
                })
            });
            if let Err(e) = r {
                eprintln!("rustvol-store-ceiling: {} store: {e}", a.store);
                status = ExitCode::from(1);
                if steps.child {
                    return status;
                }
            }
        }
    }
    // A directory store keeps the emptied directories of the deleted objects.
    if let (Some(root), "dir", None) = (&a.root, a.store.as_str(), a.writer) {
        let _ = std::fs::remove_dir_all(std::path::Path::new(root).join(&base));
    }
    status
}

/// `--writers N`: N processes of this program, each with its own client and runtime (as N MPI
/// ranks each have theirs), each PUTting and GETting its share of every case's objects with the
/// case's concurrency; the figure is the aggregate, every writer's bytes over the time from
/// when all were told to start a step to when the last finished it.
fn run_writers(a: &Args) -> ExitCode {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("rustvol-store-ceiling: cannot find this program: {e}");
            return ExitCode::from(2);
        }
    };
    let parent = std::process::id();
    let mut kids = Vec::new();
    for w in 0..a.writers {
        let child = Command::new(&exe)
            .args(std::env::args().skip(1))
            .arg("--writer")
            .arg(format!("{w}:{parent}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        match child {
            Ok(mut k) => {
                let out = BufReader::new(k.stdout.take().expect("piped"));
                let inp = k.stdin.take().expect("piped");
                kids.push((k, out, inp));
            }
            Err(e) => {
                eprintln!("rustvol-store-ceiling: cannot start writer {w}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // Every writer's next line (None when one ended early: its error is on standard error).
    type Kids = Vec<(std::process::Child, BufReader<std::process::ChildStdout>, std::process::ChildStdin)>;
    let lines = |kids: &mut Kids| -> Option<Vec<String>> {
        kids.iter_mut()
            .map(|(_, out, _)| {
                let mut l = String::new();
                (out.read_line(&mut l).ok()? > 0).then(|| l.trim().to_string())
            })
            .collect()
    };
    let go = |kids: &mut Kids| {
        kids.iter_mut().all(|(_, _, inp)| writeln!(inp, "go").and_then(|()| inp.flush()).is_ok())
    };
    let mut ok = true;
    'cases: for c in &a.cases {
        for round in 0..a.rounds {
            if lines(&mut kids).is_none() {
                ok = false;
                break 'cases;
            }
            for op in ["put", "get"] {
                let t = Instant::now();
                if !go(&mut kids) || lines(&mut kids).is_none() {
                    ok = false;
                    break 'cases;
                }
                emit(&a.store, c, a.writers, round, op, t.elapsed().as_secs_f64());
            }
            if !go(&mut kids) {
                ok = false;
                break 'cases;
            }
        }
    }
    for (mut k, _, inp) in kids {
        drop(inp);
        ok &= k.wait().is_ok_and(|s| s.success());
    }
    if let (Some(root), "dir") = (&a.root, a.store.as_str()) {
        let base = format!("{}{}ceiling-{parent}", a.prefix.trim_matches('/'), if a.prefix.trim_matches('/').is_empty() { "" } else { "/" });
        let _ = std::fs::remove_dir_all(std::path::Path::new(root).join(base));
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
