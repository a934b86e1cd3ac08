//! The cache's protocol, through its public calls and its private state.

use super::entry::MAX_LIFETIME;
use super::*;
use crate::kernel::secret::Secret;

fn cache(dir: &Path) -> Cache {
    Cache {
        dir: dir.join("c"),
        state: Cell::new(State::Unchecked),
    }
}

#[test]
fn round_trip_expiry_and_what_a_fresh_answer_could_be() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, trace) = (cache(tmp.path()), Trace::silent());
    let c = CacheRef::new(Some(&cache), &trace, Deadline::start());
    let key = Key::new(&["a", "b"]);
    assert!(c.get::<Secret>(&key, 1).is_none());
    assert!(!cache.dir.exists(), "a get creates nothing");
    c.put(&key, &Secret::new("value"), 1, 100);
    let (v, expires) = c.get::<Secret>(&key, 99).unwrap();
    assert_eq!((v.expose(), expires), ("value", 100));
    assert!(c.get::<Secret>(&key, 100).is_none(), "expired");
    let path = cache.entry_path(&cache.names(&trace, false).unwrap(), &key);
    assert!(!path.exists(), "and removed");
    assert!(names::is_tagged(&cache.dir));

    let now = 1_000_000;
    c.put(&key, &Secret::new("v"), now, i64::MAX);
    let (_, expires) = c.get::<Secret>(&key, now).unwrap();
    assert_eq!(
        expires,
        now + MAX_LIFETIME,
        "a put never writes what a get refuses"
    );
    assert!(c.get_if::<Secret>(&key, now, |_| false).is_none());
    assert!(!path.exists(), "an entry its reader refuses is removed");
}

#[test]
fn fill_once_fetches_on_a_miss_only_and_keeps_what_it_is_told() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, trace) = (cache(tmp.path()), Trace::recording());
    let c = CacheRef::new(Some(&cache), &trace, Deadline::start());
    let key = Key::new(&["k"]);
    let fetch = |token: &str, keep| Ok::<_, ()>((Secret::new(token), keep));
    let (t, _) = c
        .fill_once(&key, 10, "x", || fetch("nokeep", None))
        .unwrap();
    assert_eq!(t.expose(), "nokeep");
    let (t, e) = c
        .fill_once(&key, 10, "x", || fetch("one", Some(50)))
        .unwrap();
    assert_eq!((t.expose(), e), ("one", Some(50)));
    let (t, e) = c
        .fill_once(&key, 11, "x", || fetch("two", Some(60)))
        .unwrap();
    assert_eq!((t.expose(), e), ("one", Some(50)), "a hit");
    assert_eq!(
        c.fill_once(&key, 50, "x", || Err::<(Secret, _), _>(7)),
        Err(7)
    );
    let notes = trace.take().join("\n");
    assert!(notes.contains("cache: miss for x") && notes.contains("cache: hit for x"));

    let off = CacheRef::new(None, &trace, Deadline::start());
    assert_eq!(
        off.fill_once(&key, 11, "x", || fetch("three", Some(60)))
            .unwrap()
            .0
            .expose(),
        "three"
    );
    c.remember_absent(&["imds"], 10, "not here\n(at all)");
    assert_eq!(
        c.absent(&["imds"], 10 + ABSENCE_TTL - 1).as_deref(),
        Some("not here(at all)")
    );
    assert_eq!(c.absent(&["imds"], 10 + ABSENCE_TTL), None);
}

#[cfg(unix)]
#[test]
fn a_directory_that_is_not_ours_is_not_used_and_never_cleared() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let (cache, trace) = (cache(tmp.path()), Trace::recording());
    fs::create_dir(&cache.dir).unwrap();
    fs::write(cache.dir.join("package.json"), b"{}").unwrap();
    fs::set_permissions(&cache.dir, fs::Permissions::from_mode(0o777)).unwrap();
    let c = CacheRef::new(Some(&cache), &trace, Deadline::start());
    let key = Key::new(&["k"]);
    c.put(&key, &Secret::new("t"), 1, 100);
    assert!(c.get::<Secret>(&key, 2).is_none());
    assert_eq!(
        fs::read_dir(&cache.dir).unwrap().count(),
        1,
        "nothing written"
    );
    let notes = trace.take();
    assert_eq!(notes.len(), 1, "one note: {notes:?}");
    assert!(
        notes[0].starts_with("cache: not used (as if off): "),
        "{notes:?}"
    );
    let e = Cache::clear(&cache.dir).unwrap_err().to_string();
    assert!(e.contains("writable by its group and all users"), "{e}");

    fs::set_permissions(&cache.dir, fs::Permissions::from_mode(0o700)).unwrap();
    let e = Cache::clear(&cache.dir).unwrap_err().to_string();
    assert!(e.contains("has no CACHEDIR.TAG"), "{e}");
    assert!(cache.dir.join("package.json").exists());
}
