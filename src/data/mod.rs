//! Data sets: ps2's two circles and Fashion-MNIST, as [`Dataset`]s of rows and labels.

use crate::core::error::{ensure_param, ensure_shape, Error, Result};
use crate::core::rng;
use crate::core::Real;
use ndarray::Array2;
use pages::large_vec;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Normal};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

mod pages;

/// Examples as rows of `x` (n × d) with class labels `y` (length n).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<F> {
    /// n × d features.
    pub x: Array2<F>,
    /// n labels in 0..classes.
    pub y: Vec<usize>,
    /// Number of classes m.
    pub classes: usize,
}

impl<F: Real> Dataset<F> {
    /// A data set; checks that x has one row per label and that labels are below `classes`.
    pub fn new(x: Array2<F>, y: Vec<usize>, classes: usize) -> Result<Self> {
        ensure_shape(x.nrows() == y.len(), || format!("x has {} rows but there are {} labels", x.nrows(), y.len()))?;
        if let Some(&bad) = y.iter().find(|&&c| c >= classes) {
            return Err(Error::Shape(format!("label {bad} is out of range for {classes} classes")));
        }
        Ok(Dataset { x, y, classes })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The examples at `idx`, in that order (x in a vector asked for 2 MiB pages: `large_vec`).
    pub fn select(&self, idx: &[usize]) -> Dataset<F> {
        let d = self.x.ncols();
        let mut v = large_vec(idx.len() * d);
        for &i in idx {
            let row = self.x.row(i);
            match row.as_slice() {
                Some(r) => v.extend_from_slice(r),
                None => v.extend(row.iter().copied()),
            }
        }
        let x = Array2::from_shape_vec((idx.len(), d), v).expect("idx.len() rows of d values");
        Dataset { x, y: idx.iter().map(|&i| self.y[i]).collect(), classes: self.classes }
    }

    /// The first `n` examples.
    pub fn head(&self, n: usize) -> Dataset<F> {
        self.select(&(0..n.min(self.len())).collect::<Vec<_>>())
    }

    /// Shuffles (seeded) and cuts into consecutive parts of the given sizes (which must add up to at most n).
    pub fn split(&self, sizes: &[usize], seed: u64) -> Result<Vec<Dataset<F>>> {
        let total: usize = sizes.iter().sum();
        ensure_param(total <= self.len(), "split sizes", format!("{sizes:?}"), &format!("add up to more than the {} examples", self.len()))?;
        let mut idx: Vec<usize> = (0..self.len()).collect();
        idx.shuffle(&mut rng::seeded(seed));
        let mut start = 0;
        Ok(sizes
            .iter()
            .map(|&s| {
                let part = self.select(&idx[start..start + s]);
                start += s;
                part
            })
            .collect())
    }

    /// The same data in another float type.
    pub fn cast<G: Real>(&self) -> Dataset<G> {
        let mut v = large_vec(self.x.len());
        v.extend(self.x.iter().map(|&a| G::from_f64(a.to_f64().unwrap()).unwrap()));
        let x = Array2::from_shape_vec(self.x.raw_dim(), v).expect("as many values as x");
        Dataset { x, y: self.y.clone(), classes: self.classes }
    }
}

/// Two concentric circles (ps2): the outer circle (radius 1, class 0) gets ⌊n/2⌋ points,
/// the inner one (radius `factor`, class 1) the rest, so an odd n gives the inner circle
/// the extra point. Points are evenly spaced in angle, then Gaussian noise of standard
/// deviation `noise` is added to both coordinates, and the rows are shuffled. Seeded.
pub fn two_circles(n: usize, noise: f64, factor: f64, seed: u64) -> Result<Dataset<f64>> {
    ensure_param(n >= 2, "n", n, "at least two points are needed (one per circle)")?;
    ensure_param(noise.is_finite() && noise >= 0.0, "noise", noise, "must be finite and >= 0")?;
    ensure_param(factor > 0.0 && factor < 1.0, "factor", factor, "the inner radius / outer radius must lie in (0, 1)")?;
    let n_out = n / 2;
    let n_in = n - n_out;
    let mut r = rng::seeded(seed);
    let normal = Normal::new(0.0, 1.0).expect("unit normal");
    let mut rows = Vec::with_capacity(n);
    for (count, radius, label) in [(n_out, 1.0, 0usize), (n_in, factor, 1usize)] {
        for i in 0..count {
            let t = 2.0 * std::f64::consts::PI * i as f64 / count as f64;
            rows.push((radius * t.cos(), radius * t.sin(), label));
        }
    }
    rows.shuffle(&mut r);
    let mut x = Array2::zeros((n, 2));
    let mut y = Vec::with_capacity(n);
    for (i, (a, b, label)) in rows.into_iter().enumerate() {
        x[[i, 0]] = a + noise * normal.sample(&mut r);
        x[[i, 1]] = b + noise * normal.sample(&mut r);
        y.push(label);
    }
    Dataset::new(x, y, 2)
}

/// The ten Fashion-MNIST classes, by label.
pub const FASHION_CLASSES: [&str; 10] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/// SHA-256 of the four decompressed IDX files (the same as `shared/data/fashion-mnist.sha256`;
/// gzip wrappers differ between sources, the contents do not).
pub const FASHION_SHA256: [(&str, &str); 4] = [
    ("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    ("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    ("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    ("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
];

const HOW_TO_GET: &str = "Get Fashion-MNIST with `make setup` (Debian: apt-get install dataset-fashion-mnist), \
or put the four IDX files (.gz or plain) in data/fashion-mnist/ or in $FASHION_MNIST_DIR";

fn data_error(file: &Path, problem: impl Into<String>) -> Error {
    Error::Data { file: file.display().to_string(), problem: problem.into(), fix: HOW_TO_GET.into() }
}

/// The folders searched for Fashion-MNIST, in order: `$FASHION_MNIST_DIR`, this crate's
/// `data/fashion-mnist/`, and `/usr/share/datasets/fashion-mnist/`.
pub fn fashion_mnist_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("FASHION_MNIST_DIR") {
        dirs.push(PathBuf::from(d));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join("fashion-mnist"));
    dirs.push(PathBuf::from("/usr/share/datasets/fashion-mnist"));
    dirs
}

/// The largest decompressed IDX file the loader accepts (1 GiB; Fashion-MNIST's largest is 47 MB).
/// A header announcing more is refused before anything is read or allocated.
pub const MAX_IDX_BYTES: usize = 1 << 30;

/// Reads `name` or `name.gz` from `dir` (at most the size its header announces, see [`read_idx`])
/// and returns the path and the bytes, or `None` when neither file exists.
fn read_idx_file(dir: &Path, name: &str, images: bool) -> Result<Option<(PathBuf, Vec<u8>)>> {
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    let io = |p: &Path, e: std::io::Error| data_error(p, format!("cannot be read ({e})"));
    if gz.exists() {
        let f = std::fs::File::open(&gz).map_err(|e| io(&gz, e))?;
        Ok(Some((gz.clone(), read_idx(&gz, flate2::read::GzDecoder::new(f), images)?)))
    } else if plain.exists() {
        let f = std::fs::File::open(&plain).map_err(|e| io(&plain, e))?;
        Ok(Some((plain.clone(), read_idx(&plain, f, images)?)))
    } else {
        Ok(None)
    }
}

/// Reads one IDX file (image file when `images`, else label file) from `r`, never more than the
/// size its header announces plus one byte: the header is read first, the declared size
/// (16 + count·rows·cols bytes for images, 8 + count for labels) is checked against
/// [`MAX_IDX_BYTES`], and the rest is read through `take(declared − header + 1)`, so a file that
/// inflates to gigabytes costs one declared size of memory and time. More bytes than declared is
/// an error naming `path`; fewer, or a wrong magic number, is left to [`parse_idx`] to report.
pub fn read_idx<R: Read>(path: &Path, r: R, images: bool) -> Result<Vec<u8>> {
    let gz = path.extension().is_some_and(|e| e == "gz");
    let bad = |e: std::io::Error| {
        if gz {
            data_error(path, format!("is not a valid gzip file ({e}); the download is probably incomplete"))
        } else {
            data_error(path, format!("cannot be read ({e})"))
        }
    };
    let (magic, header) = if images { (2051, 16) } else { (2049, 8) };
    let mut r = r;
    let mut bytes = Vec::with_capacity(header);
    (&mut r).take(header as u64).read_to_end(&mut bytes).map_err(bad)?;
    if bytes.len() < header || be_u32(&bytes, 0) != magic {
        return Ok(bytes); // parse_idx names the truncation or the bad magic number
    }
    let declared = declared_len(&bytes, images).filter(|&n| n <= MAX_IDX_BYTES);
    let Some(declared) = declared else {
        return Err(data_error(path, format!("has a header announcing {}, more than the {MAX_IDX_BYTES}-byte limit of this loader; the file is corrupt or not an IDX file", announced(&bytes, images))));
    };
    // grows as data arrives (a header alone never reserves its declared size)
    bytes.reserve(declared.min(1 << 26) - header);
    r.take((declared - header) as u64 + 1).read_to_end(&mut bytes).map_err(bad)?;
    if bytes.len() > declared {
        return Err(data_error(path, format!("holds more data than its header announces ({}, {declared} bytes): trailing data after byte {declared}; the file is corrupt", announced(&bytes, images))));
    }
    Ok(bytes)
}

/// The size in bytes an IDX header announces (None when it overflows).
fn declared_len(b: &[u8], images: bool) -> Option<usize> {
    let count = be_u32(b, 4) as usize;
    if images {
        count.checked_mul(be_u32(b, 8) as usize)?.checked_mul(be_u32(b, 12) as usize)?.checked_add(16)
    } else {
        count.checked_add(8)
    }
}

/// "N items of RxC" as the header says.
fn announced(b: &[u8], images: bool) -> String {
    if images {
        format!("{} items of {}x{}", be_u32(b, 4), be_u32(b, 8), be_u32(b, 12))
    } else {
        format!("{} items of 1x1", be_u32(b, 4))
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses an IDX file (after checking its SHA-256 when `sha` is given):
/// returns (count, rows, cols, payload) for images (magic 2051) or labels (magic 2049).
pub fn parse_idx(path: &Path, bytes: &[u8], images: bool, sha: Option<&str>) -> Result<(usize, usize, usize, Vec<u8>)> {
    if let Some(want) = sha {
        let got = format!("{:x}", Sha256::digest(bytes));
        if got != want {
            return Err(data_error(path, format!("wrong SHA-256 of the decompressed contents (got {got}, expected {want}); the file is corrupt or not Fashion-MNIST")));
        }
    }
    let (magic, header) = if images { (2051, 16) } else { (2049, 8) };
    if bytes.len() < header {
        return Err(data_error(path, format!("is truncated: {} bytes, shorter than the {header}-byte IDX header", bytes.len())));
    }
    let got = be_u32(bytes, 0);
    if got != magic {
        return Err(data_error(path, format!("bad magic number {got} (expected {magic} for an IDX {} file)", if images { "image" } else { "label" })));
    }
    let count = be_u32(bytes, 4) as usize;
    let (rows, cols) = if images { (be_u32(bytes, 8) as usize, be_u32(bytes, 12) as usize) } else { (1, 1) };
    let Some(expected) = declared_len(bytes, images) else {
        return Err(data_error(path, format!("has a header announcing {}, more bytes than this machine can address", announced(bytes, images))));
    };
    if bytes.len() != expected {
        return Err(data_error(path, format!("is truncated or padded: {} bytes, but the header announces {count} items of {rows}x{cols} ({expected} bytes)", bytes.len())));
    }
    Ok((count, rows, cols, bytes[header..].to_vec()))
}

/// Loads one images/labels pair from `dir` (checksums checked), pixels scaled to [0, 1].
fn load_pair<F: Real>(dir: &Path, images: &str, labels: &str, verify: bool) -> Result<Dataset<F>> {
    let sha = |name: &str| verify.then(|| FASHION_SHA256.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)).flatten();
    let (ip, ib) = read_idx_file(dir, images, true)?.ok_or_else(|| data_error(&dir.join(format!("{images}.gz")), "is missing"))?;
    let (lp, lb) = read_idx_file(dir, labels, false)?.ok_or_else(|| data_error(&dir.join(format!("{labels}.gz")), "is missing"))?;
    let (n, rows, cols, pixels) = parse_idx(&ip, &ib, true, sha(images))?;
    let (nl, _, _, labs) = parse_idx(&lp, &lb, false, sha(labels))?;
    if n != nl {
        return Err(data_error(&lp, format!("holds {nl} labels but {} holds {n} images", ip.display())));
    }
    if let Some(bad) = labs.iter().find(|&&l| l > 9) {
        return Err(data_error(&lp, format!("holds the label {bad}, outside 0..9")));
    }
    let scale = F::from_f64(1.0 / 255.0).unwrap();
    let x = Array2::from_shape_vec((n, rows * cols), pixels.into_iter().map(|p| F::from_u8(p).unwrap() * scale).collect())?;
    Dataset::new(x, labs.into_iter().map(usize::from).collect(), 10)
}

/// Fashion-MNIST split into train / valid / test.
#[derive(Clone, Debug, PartialEq)]
pub struct FashionMnist<F> {
    /// Training part of the 60 000 training images.
    pub train: Dataset<F>,
    /// Validation part of the 60 000 training images.
    pub valid: Dataset<F>,
    /// The 10 000 test images.
    pub test: Dataset<F>,
    /// Where the files were found.
    pub dir: PathBuf,
}

/// Loads Fashion-MNIST from `dir`, or from the first folder of [`fashion_mnist_dirs`] that holds the
/// four files. The 60 000 training images are shuffled with `split_seed` and cut into `n_valid`
/// validation images and the rest for training. Every file's SHA-256 is checked.
pub fn fashion_mnist<F: Real>(dir: Option<&Path>, n_valid: usize, split_seed: u64) -> Result<FashionMnist<F>> {
    let dirs = match dir {
        Some(d) => vec![d.to_path_buf()],
        None => fashion_mnist_dirs(),
    };
    let has_all = |d: &Path| FASHION_SHA256.iter().all(|(n, _)| d.join(n).exists() || d.join(format!("{n}.gz")).exists());
    let dir = match dirs.iter().find(|d| has_all(d)) {
        Some(d) => d.clone(),
        None => {
            // name the first missing file of the most specific folder
            let d = &dirs[0];
            let missing = FASHION_SHA256.iter().find(|(n, _)| !d.join(n).exists() && !d.join(format!("{n}.gz")).exists()).map(|(n, _)| *n).unwrap_or("");
            let searched = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
            return Err(Error::Data {
                file: d.join(format!("{missing}.gz")).display().to_string(),
                problem: format!("is missing (searched {searched})"),
                fix: HOW_TO_GET.into(),
            });
        }
    };
    let full = load_pair::<F>(&dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", true)?;
    let test = load_pair::<F>(&dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", true)?;
    ensure_param(n_valid < full.len(), "n_valid", n_valid, "must leave at least one training image")?;
    let mut parts = full.split(&[full.len() - n_valid, n_valid], split_seed)?;
    let valid = parts.pop().unwrap();
    let train = parts.pop().unwrap();
    Ok(FashionMnist { train, valid, test, dir })
}

/// Loads an images/labels pair of IDX files without checksum verification (for other IDX data).
pub fn load_idx_pair<F: Real>(dir: &Path, images: &str, labels: &str) -> Result<Dataset<F>> {
    load_pair(dir, images, labels, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn idx_images(n: usize, rows: usize, cols: usize) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [2051u32, n as u32, rows as u32, cols as u32] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend((0..n * rows * cols).map(|i| (i % 256) as u8));
        b
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [2049u32, labels.len() as u32] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(labels);
        b
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("backprop-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn good_idx_files_load_gz_and_plain() {
        let d = tmpdir("good");
        std::fs::write(d.join("img.gz"), gz(&idx_images(3, 2, 2))).unwrap();
        std::fs::write(d.join("lab"), idx_labels(&[0, 9, 4])).unwrap();
        let ds = load_idx_pair::<f64>(&d, "img", "lab").unwrap();
        assert_eq!(ds.x.dim(), (3, 4));
        assert_eq!(ds.y, vec![0, 9, 4]);
        assert_eq!(ds.x[[1, 3]], 7.0 / 255.0);
        assert!(ds.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    }

    #[test]
    fn bad_idx_files_are_named_errors() {
        let d = tmpdir("bad");
        // truncated images
        let mut img = idx_images(3, 2, 2);
        img.truncate(img.len() - 1);
        std::fs::write(d.join("img"), &img).unwrap();
        std::fs::write(d.join("lab"), idx_labels(&[0, 1, 2])).unwrap();
        let e = load_idx_pair::<f64>(&d, "img", "lab").unwrap_err().to_string();
        assert!(e.contains("/img: is truncated or padded: 27 bytes, but the header announces 3 items of 2x2 (28 bytes)"), "{e}");
        assert!(e.contains("make setup"), "{e}");
        // wrong magic
        let mut img = idx_images(3, 2, 2);
        img[3] = 0x01;
        std::fs::write(d.join("img"), &img).unwrap();
        let e = load_idx_pair::<f64>(&d, "img", "lab").unwrap_err().to_string();
        assert!(e.contains("bad magic number 2049 (expected 2051 for an IDX image file)"), "{e}");
        // wrong count
        std::fs::write(d.join("img"), idx_images(3, 2, 2)).unwrap();
        std::fs::write(d.join("lab"), idx_labels(&[0, 1])).unwrap();
        let e = load_idx_pair::<f64>(&d, "img", "lab").unwrap_err().to_string();
        assert!(e.contains("holds 2 labels but") && e.contains("holds 3 images"), "{e}");
        // a file that is not gzip behind a .gz name
        std::fs::remove_file(d.join("img")).unwrap();
        std::fs::write(d.join("img.gz"), b"not gzip").unwrap();
        let e = load_idx_pair::<f64>(&d, "img", "lab").unwrap_err().to_string();
        assert!(e.contains("img.gz: is not a valid gzip file"), "{e}");
        // missing
        let e = load_idx_pair::<f64>(&d, "nothing", "lab").unwrap_err().to_string();
        assert!(e.contains("nothing.gz: is missing"), "{e}");
    }

    /// Counts the bytes read through it.
    struct Counting<R>(R, std::rc::Rc<std::cell::Cell<usize>>);
    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1.set(self.1.get() + n);
            Ok(n)
        }
    }

    #[test]
    fn data_beyond_the_header_is_refused_without_reading_it() {
        let d = tmpdir("trailing");
        // a valid 3-image header and payload followed by 200 MB of zeros, compressed in 1 MB pieces (~200 kB)
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&idx_images(3, 2, 2)).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..200 {
            e.write_all(&zeros).unwrap();
        }
        let bomb = e.finish().unwrap();
        assert!(bomb.len() < 1 << 20, "{} compressed bytes", bomb.len());
        std::fs::write(d.join("img.gz"), &bomb).unwrap();
        std::fs::write(d.join("lab"), idx_labels(&[0, 1, 2])).unwrap();
        let e = load_idx_pair::<f64>(&d, "img", "lab").unwrap_err().to_string();
        assert!(e.contains("/img.gz: holds more data than its header announces (3 items of 2x2, 28 bytes): trailing data after byte 28"), "{e}");
        // the decompressor was asked for the declared 28 bytes and one more, not for 200 MB
        let pulled = std::rc::Rc::new(std::cell::Cell::new(0));
        let r = Counting(flate2::read::GzDecoder::new(&bomb[..]), pulled.clone());
        assert!(read_idx(Path::new("img.gz"), r, true).is_err());
        assert_eq!(pulled.get(), 29);
        // the same for a plain file padded by one byte
        let mut img = idx_images(3, 2, 2);
        img.push(0);
        std::fs::remove_file(d.join("img.gz")).unwrap();
        std::fs::write(d.join("img"), &img).unwrap();
        let e = load_idx_pair::<f64>(&d, "img", "lab").unwrap_err().to_string();
        assert!(e.contains("/img: holds more data than its header announces (3 items of 2x2, 28 bytes)"), "{e}");
        let mut lab = idx_labels(&[0, 1, 2]);
        lab.extend_from_slice(b"junk");
        std::fs::write(d.join("img"), idx_images(3, 2, 2)).unwrap();
        std::fs::write(d.join("lab"), &lab).unwrap();
        let e = load_idx_pair::<f64>(&d, "img", "lab").unwrap_err().to_string();
        assert!(e.contains("/lab: holds more data than its header announces (3 items of 1x1, 11 bytes)"), "{e}");
    }

    #[test]
    fn headers_announcing_too_much_are_refused_before_reading() {
        let d = tmpdir("huge");
        // 60000 images of 60000x60000: 2.16e14 bytes, far above the limit; the file itself is 16 bytes
        let mut img = Vec::new();
        for v in [2051u32, 60000, 60000, 60000] {
            img.extend_from_slice(&v.to_be_bytes());
        }
        std::fs::write(d.join("img.gz"), gz(&img)).unwrap();
        std::fs::write(d.join("lab"), idx_labels(&[0])).unwrap();
        let e = load_idx_pair::<f64>(&d, "img", "lab").unwrap_err().to_string();
        assert!(e.contains(&format!("/img.gz: has a header announcing 60000 items of 60000x60000, more than the {MAX_IDX_BYTES}-byte limit of this loader")), "{e}");
        // a header whose size overflows 64 bits, given to the parser directly
        let mut img = Vec::new();
        for v in [2051u32, u32::MAX, u32::MAX, u32::MAX] {
            img.extend_from_slice(&v.to_be_bytes());
        }
        let e = parse_idx(Path::new("x"), &img, true, None).unwrap_err().to_string();
        assert!(e.contains("x: has a header announcing 4294967295 items of 4294967295x4294967295, more bytes than this machine can address"), "{e}");
    }

    #[test]
    fn fashion_mnist_checksums_are_enforced() {
        // a well-formed but wrong train-images file: the checksum catches it
        let d = tmpdir("sha");
        std::fs::write(d.join("train-images-idx3-ubyte.gz"), gz(&idx_images(2, 28, 28))).unwrap();
        std::fs::write(d.join("train-labels-idx1-ubyte"), idx_labels(&[1, 2])).unwrap();
        std::fs::write(d.join("t10k-images-idx3-ubyte"), idx_images(1, 28, 28)).unwrap();
        std::fs::write(d.join("t10k-labels-idx1-ubyte"), idx_labels(&[3])).unwrap();
        let e = fashion_mnist::<f32>(Some(&d), 1, 0).unwrap_err().to_string();
        assert!(e.contains("train-images-idx3-ubyte.gz: wrong SHA-256 of the decompressed contents"), "{e}");
        // a folder without the files
        let empty = tmpdir("empty");
        let e = fashion_mnist::<f32>(Some(&empty), 1, 0).unwrap_err().to_string();
        assert!(e.contains("train-images-idx3-ubyte.gz: is missing (searched"), "{e}");
    }

    #[test]
    fn checksums_match_the_shared_file() {
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/fashion-mnist.sha256");
        let Ok(text) = std::fs::read_to_string(&shared) else { return }; // only in the development workspace
        for (name, sha) in FASHION_SHA256 {
            assert!(text.lines().any(|l| l.starts_with(sha) && l.trim_end().ends_with(name)), "{name} differs from {}", shared.display());
        }
    }

    #[test]
    fn two_circles_counts_radii_determinism() {
        let d = two_circles(101, 0.0, 0.5, 3).unwrap();
        assert_eq!(d.len(), 101);
        let inner = d.y.iter().filter(|&&c| c == 1).count();
        assert_eq!(inner, 51, "the odd point goes to the inner circle");
        for (row, &c) in d.x.rows().into_iter().zip(&d.y) {
            let r = (row[0] * row[0] + row[1] * row[1]).sqrt();
            assert!((r - if c == 0 { 1.0 } else { 0.5 }).abs() < 1e-12);
        }
        assert_eq!(two_circles(101, 0.1, 0.5, 3).unwrap(), two_circles(101, 0.1, 0.5, 3).unwrap());
        assert_ne!(two_circles(101, 0.1, 0.5, 3).unwrap(), two_circles(101, 0.1, 0.5, 4).unwrap());
        let parts = two_circles(100, 0.1, 0.5, 1).unwrap().split(&[60, 20, 20], 2).unwrap();
        assert_eq!(parts.iter().map(Dataset::len).collect::<Vec<_>>(), vec![60, 20, 20]);
        let e = two_circles(100, 0.1, 1.5, 1).unwrap_err().to_string();
        assert_eq!(e, "invalid hyperparameter factor = 1.5: the inner radius / outer radius must lie in (0, 1)");
        let e = two_circles(100, 0.1, 0.5, 1).unwrap().split(&[90, 20], 0).unwrap_err().to_string();
        assert_eq!(e, "invalid hyperparameter split sizes = [90, 20]: add up to more than the 100 examples");
    }

    /// `select` and `cast` (which fill a `large_vec`) give what ndarray's `select` and `mapv` give,
    /// for a set large enough for the 2 MiB-page hint (9.6 MB) and for a column-major x.
    #[test]
    fn select_and_cast_keep_every_value() {
        use ndarray::{Axis, ShapeBuilder};
        let (n, d) = (3000, 400);
        let x = Array2::from_shape_fn((n, d), |(i, j)| (i * d + j) as f64 / 7.0);
        let mut x_col = Array2::zeros((n, d).f());
        x_col.assign(&x);
        let idx: Vec<usize> = (0..n).rev().step_by(3).chain([5, 5, 0]).collect();
        for x in [x, x_col] {
            let ds = Dataset::new(x.clone(), (0..n).map(|i| i % 10).collect(), 10).unwrap();
            let sel = ds.select(&idx);
            assert_eq!(sel.x, x.select(Axis(0), &idx));
            assert_eq!(sel.y, idx.iter().map(|&i| i % 10).collect::<Vec<_>>());
            assert_eq!(ds.cast::<f32>().x, x.mapv(|v| v as f32));
        }
    }
}
