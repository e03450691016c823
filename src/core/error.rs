//! The crate's error type: every mistake a user can make (a shape that does
//! not fit, a hyperparameter out of range, a missing data file, training that
//! diverges) comes back as an [`Error`] that names the problem and the fix.

/// Everything that can go wrong in this crate.
#[derive(Debug)]
pub enum Error {
    /// Two shapes that must agree do not, e.g.
    /// "W1 has 784 columns but x has 2 features".
    Shape(String),
    /// A hyperparameter outside its valid range.
    Hyperparameter {
        name: String,
        value: String,
        reason: String,
    },
    /// An input that must hold at least one element is empty.
    Empty(String),
    /// A NaN or infinity where only finite numbers make sense.
    NonFinite(String),
    /// Training produced a non-finite loss.
    Diverged {
        /// Where: "epoch 3", "step 12".
        at: String,
        loss: String,
        lr: String,
    },
    /// A data file is missing, truncated or corrupt.
    Data {
        file: String,
        problem: String,
        fix: String,
    },
    /// A figure could not be drawn or encoded.
    Plot(String),
    /// Reading or writing a file failed.
    Io {
        path: String,
        source: std::io::Error,
    },
    /// An ndarray reshape failed.
    NdShape(ndarray::ShapeError),
}

// Display, Error and From written out rather than derived with thiserror: thiserror's
// dependency info names its build script's OUT_DIR, and evcxr's compilation cache
// (`:cache`, shared by every notebook's build folder) restores it with another folder's
// path, so cargo rebuilt thiserror and then this crate before every notebook cell
// (`Compiling thiserror`, `Compiling backprop` on each cell; BENCHMARKS.md, cell latency).
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Shape(m) => write!(f, "shape mismatch: {m}"),
            Error::Hyperparameter { name, value, reason } => {
                write!(f, "invalid hyperparameter {name} = {value}: {reason}")
            }
            Error::Empty(m) => write!(f, "empty input: {m}"),
            Error::NonFinite(m) => write!(f, "non-finite value: {m}"),
            Error::Diverged { at, loss, lr } => write!(
                f,
                "training diverged at {at}: the loss became {loss}; try a smaller learning rate than {lr}"
            ),
            Error::Data { file, problem, fix } => write!(f, "{file}: {problem}. {fix}"),
            Error::Plot(m) => write!(f, "figure: {m}"),
            Error::Io { path, source } => write!(f, "cannot access {path}: {source}"),
            Error::NdShape(e) => std::fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::NdShape(e) => e.source(),
            _ => None,
        }
    }
}

impl From<ndarray::ShapeError> for Error {
    fn from(e: ndarray::ShapeError) -> Self {
        Error::NdShape(e)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Ok(())` when `ok`, else [`Error::Shape`] with the message built by `msg`.
pub(crate) fn ensure_shape(ok: bool, msg: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Shape(msg()))
    }
}

/// `Ok(())` when `ok`, else [`Error::Hyperparameter`].
pub(crate) fn ensure_param(
    ok: bool,
    name: &str,
    value: impl std::fmt::Display,
    reason: &str,
) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Hyperparameter {
            name: name.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        })
    }
}

/// `Ok(())` when every element of `values` is finite, else [`Error::NonFinite`] naming `what`.
pub(crate) fn ensure_finite<'a, F: num_traits::Float + 'a>(
    values: impl IntoIterator<Item = &'a F>,
    what: &str,
) -> Result<()> {
    if values.into_iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFinite(format!("{what} contains NaN or infinity")))
    }
}

/// A dynamic-dimensional array as a vector, or [`Error::Shape`] naming it.
pub(crate) fn to_ix1<F: Clone>(a: &ndarray::ArrayD<F>, name: &str) -> Result<ndarray::Array1<F>> {
    a.clone()
        .into_dimensionality::<ndarray::Ix1>()
        .map_err(|_| Error::Shape(format!("{name} must be a vector, got an array of shape {:?}", a.shape())))
}

/// A dynamic-dimensional array as a matrix, or [`Error::Shape`] naming it.
pub(crate) fn to_ix2<F: Clone>(a: &ndarray::ArrayD<F>, name: &str) -> Result<ndarray::Array2<F>> {
    a.clone()
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|_| Error::Shape(format!("{name} must be a matrix, got an array of shape {:?}", a.shape())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndarray_shape_errors_convert() {
        let e: Error = ndarray::Array1::<f64>::zeros(3).into_shape_with_order((2, 2)).unwrap_err().into();
        assert_eq!(e.to_string(), "ShapeError/IncompatibleShape: incompatible shapes");
        let e = to_ix2(&ndarray::Array1::<f64>::zeros(3).into_dyn(), "W1").unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: W1 must be a matrix, got an array of shape [3]");
    }
}
