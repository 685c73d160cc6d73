//! File names that are URLs choose their backend themselves; the info string gives the rest.
use rustvol::config::Config;
use rustvol::connectors::resolve;

#[test]
fn url_names_choose_the_backend() {
    let cfg = Config::parse("backend=memory").unwrap();
    let l = resolve(&cfg, "mem://scratch.h5").unwrap();
    assert_eq!((l.backend.describe(), l.key.as_str()), ("memory".to_string(), "scratch.h5"));

    let dir = std::env::temp_dir().join(format!("rustvol-url-{}", std::process::id()));
    let name = format!("file://{}/run.h5", dir.display());
    let l = resolve(&cfg, &name).unwrap();
    assert_eq!(l.backend.describe(), "dir /");
    assert_eq!(l.key, format!("{}/run.h5", dir.display()).trim_start_matches('/'));

    // Other names stay in the configured backend, whatever it is.
    let d = Config::parse(&format!("backend=dir;root={}", dir.display())).unwrap();
    let l = resolve(&d, "plain.h5").unwrap();
    assert_eq!((l.backend.describe(), l.key.as_str()), (format!("dir {}", dir.display()), "plain.h5"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn s3_urls_take_the_bucket_from_the_name_and_the_rest_from_the_info_string() {
    let cfg = Config::parse("backend=memory;endpoint=http://127.0.0.1:9;region=garage").unwrap();
    // Credentials are checked when the backend is built: without them the error says so and
    // names the bucket from the URL and the endpoint from the info string.
    let saved: Vec<_> = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SHARED_CREDENTIALS_FILE"]
        .iter()
        .map(|k| (k, std::env::var_os(k)))
        .collect();
    std::env::set_var("AWS_ACCESS_KEY_ID", "test-key-id");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test-secret");
    let l = resolve(&cfg, "s3://climate/runs/2024.h5").unwrap();
    assert_eq!(l.key, "runs/2024.h5");
    assert!(l.backend.describe().contains("\"climate\""), "{}", l.backend.describe());
    assert!(l.backend.describe().contains("http://127.0.0.1:9"), "{}", l.backend.describe());
    assert!(!l.backend.describe().contains("test-secret"));
    assert!(resolve(&cfg, "s3://only-a-bucket").is_err());
    for (k, v) in saved {
        match v {
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    }
}
