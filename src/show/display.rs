//! Rich output in notebooks: PNG figures and tables.
//!
//! evcxr shows a value whose type has an inherent `evcxr_display(&self)`
//! method by reading what it prints between `EVCXR_BEGIN_CONTENT <mime>` and
//! `EVCXR_END_CONTENT`. A cell shows one output per MIME type, so figures
//! with several panels are drawn into one PNG. PDF export drops HTML, so a
//! [`Table`] is sent as HTML (for JupyterLab), Markdown (for the PDF) and
//! plain text at once.

use crate::core::error::{Error, Result};
use base64::Engine;
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, IntoDrawingArea};
use std::path::Path;

/// The family name figures use; [`Figure::draw`] registers the embedded DejaVu Sans under it.
pub const FONT: &str = "sans-serif";

/// Registers the embedded DejaVu Sans as [`FONT`]. Called at the start of every
/// render: each evcxr cell is its own library, with its own copy of plotters' font table.
pub fn register_font() -> Result<()> {
    plotters::style::register_font(FONT, plotters::style::FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| Error::Plot("the embedded DejaVu Sans font could not be parsed".into()))
}

/// A PNG image, shown inline by evcxr.
#[derive(Clone, PartialEq)]
pub struct Figure {
    /// The encoded PNG file.
    pub png: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl std::fmt::Debug for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Figure({}x{} PNG, {} bytes)", self.width, self.height, self.png.len())
    }
}

/// The drawing area handed to [`Figure::draw`]'s closure.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// What a drawing closure returns; any plotters error converts into it with `?`.
pub type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

impl Figure {
    /// Draws with plotters into a `width × height` RGB buffer (white background,
    /// embedded font registered) and encodes the result as PNG.
    pub fn draw(width: u32, height: u32, f: impl FnOnce(&Area) -> DrawResult) -> Result<Figure> {
        if width == 0 || height == 0 || width > 8000 || height > 8000 {
            return Err(Error::Hyperparameter {
                name: "figure size".into(),
                value: format!("{width}x{height}"),
                reason: "width and height must be between 1 and 8000 pixels".into(),
            });
        }
        register_font()?;
        let mut buf = vec![255u8; (width * height * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
            f(&root).map_err(|e| Error::Plot(e.to_string()))?;
            root.present().map_err(|e| Error::Plot(e.to_string()))?;
        }
        Figure::from_rgb(&buf, width, height)
    }

    /// Encodes a raw RGB8 buffer (row-major, 3 bytes per pixel) as PNG.
    pub fn from_rgb(rgb: &[u8], width: u32, height: u32) -> Result<Figure> {
        if rgb.len() != (width * height * 3) as usize {
            return Err(Error::Shape(format!(
                "an RGB image of {width}x{height} needs {} bytes but the buffer has {}",
                width * height * 3,
                rgb.len()
            )));
        }
        let mut png = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut png, width, height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().map_err(|e| Error::Plot(e.to_string()))?;
            w.write_image_data(rgb).map_err(|e| Error::Plot(e.to_string()))?;
        }
        Ok(Figure { png, width, height })
    }

    /// Writes the PNG file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let p = path.as_ref();
        std::fs::write(p, &self.png).map_err(|source| Error::Io { path: p.display().to_string(), source })
    }

    /// Shows the figure in a notebook cell (MIME type image/png).
    pub fn evcxr_display(&self) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.png);
        println!("EVCXR_BEGIN_CONTENT image/png\n{b64}\nEVCXR_END_CONTENT");
    }
}

/// Formats a number for tables: integers as integers, moderate values with
/// 6 significant digits, very small or large ones in scientific notation.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let a = x.abs();
    if !(1e-4..1e6).contains(&a) {
        format!("{x:.4e}")
    } else {
        let digits = 5 - a.log10().floor() as i32;
        let s = format!("{x:.*}", digits.max(0) as usize);
        // drop trailing zeros after the decimal point
        let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
        if s == "-0" { "0".into() } else { s }
    }
}

/// Rounds to `sig` significant digits and drops trailing zeros: the number a reader
/// would write, without the binary rounding noise (`fmt_digits(0.1 + 0.2, 12)` is "0.3",
/// `fmt_digits(2.7522019999999996, 12)` is "2.752202"). Asserts keep the full value.
pub fn fmt_digits(x: f64, sig: usize) -> String {
    if !x.is_finite() || x == 0.0 {
        return if x == 0.0 { "0".into() } else { format!("{x}") };
    }
    let sig = sig.clamp(1, 17);
    let e = x.abs().log10().floor() as i32;
    if !(-5..15).contains(&e) {
        let s = format!("{x:.*e}", sig - 1);
        let (m, ex) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.') } else { m };
        return format!("{m}e{ex}");
    }
    let digits = (sig as i32 - 1 - e).max(0) as usize;
    let s = format!("{x:.digits$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s == "-0" { "0".into() } else { s }
}

/// A small error or gap in scientific notation with two digits, `1.2e-17`; an exact zero as "0"
/// (not "0.0e0").
pub fn fmt_sci(x: f64) -> String {
    if x == 0.0 { "0".into() } else { format!("{x:.1e}") }
}

/// "[a, b, c]" with each entry through [`fmt_digits`] at `sig` significant digits.
pub fn fmt_list(xs: impl IntoIterator<Item = f64>, sig: usize) -> String {
    format!("[{}]", xs.into_iter().map(|v| fmt_digits(v, sig)).collect::<Vec<_>>().join(", "))
}

/// A table with a header row; shown as HTML, Markdown and plain text.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Table {
    /// Column titles.
    pub header: Vec<String>,
    /// Rows of already formatted cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table { header: header.iter().map(|s| s.to_string()).collect(), rows: Vec::new() }
    }

    /// Appends a row; a row shorter than the header is padded with empty cells.
    pub fn push_row(&mut self, mut row: Vec<String>) -> &mut Self {
        row.resize(self.header.len().max(row.len()), String::new());
        self.rows.push(row);
        self
    }

    /// Builder form of [`Table::push_row`] for a name followed by numbers.
    pub fn row(mut self, name: &str, values: &[f64]) -> Table {
        let mut r = vec![name.to_string()];
        r.extend(values.iter().map(|&v| fmt_num(v)));
        self.push_row(r);
        self
    }

    /// A table of a matrix: row i titled `row_names[i]`, columns titled `col_names`
    /// (or 0, 1, … when empty).
    pub fn from_array(corner: &str, row_names: &[String], col_names: &[String], a: &Array2<f64>) -> Result<Table> {
        let (r, c) = a.dim();
        if (!row_names.is_empty() && row_names.len() != r) || (!col_names.is_empty() && col_names.len() != c) {
            return Err(Error::Shape(format!(
                "table of a {r}x{c} array given {} row names and {} column names",
                row_names.len(),
                col_names.len()
            )));
        }
        let mut header = vec![corner.to_string()];
        if col_names.is_empty() {
            header.extend((0..c).map(|j| j.to_string()));
        } else {
            header.extend(col_names.iter().cloned());
        }
        let mut t = Table { header, rows: Vec::new() };
        for i in 0..r {
            let name = row_names.get(i).cloned().unwrap_or_else(|| i.to_string());
            let mut row = vec![name];
            row.extend(a.row(i).iter().map(|&v| fmt_num(v)));
            t.push_row(row);
        }
        Ok(t)
    }

    /// "name | a | b | |a − b|" rows comparing two computations of the same quantities.
    pub fn compare(titles: [&str; 3], rows: &[(String, f64, f64)]) -> Table {
        let mut t = Table::new(&[titles[0], titles[1], titles[2], "|difference|"]);
        for (name, a, b) in rows {
            t.push_row(vec![name.clone(), fmt_num(*a), fmt_num(*b), format!("{:.1e}", (a - b).abs())]);
        }
        t
    }

    fn escape_html(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    }

    /// The table as an HTML `<table>`.
    pub fn to_html(&self) -> String {
        let mut s = String::from("<table>\n<thead><tr>");
        for h in &self.header {
            s += &format!("<th>{}</th>", Self::escape_html(h));
        }
        s += "</tr></thead>\n<tbody>\n";
        for r in &self.rows {
            s += "<tr>";
            for c in r {
                s += &format!("<td style=\"text-align:right\">{}</td>", Self::escape_html(c));
            }
            s += "</tr>\n";
        }
        s + "</tbody>\n</table>"
    }

    /// The table as a Markdown pipe table (what the PDF shows). The separator under the header
    /// has as many dashes as the column's widest cell: when a row is longer than pandoc's line
    /// width (72), the table spans the page with column widths in proportion to the dashes, so a
    /// wide column gets the room it needs instead of an equal share.
    pub fn to_markdown(&self) -> String {
        let esc = |c: &String| c.replace('|', "\\|");
        let mut s = format!("| {} |\n", self.header.iter().map(esc).collect::<Vec<_>>().join(" | "));
        let width = |i: usize| std::iter::once(&self.header).chain(&self.rows).filter_map(|r| r.get(i)).map(|c| esc(c).chars().count()).max().unwrap_or(0);
        s += &format!("|{}\n", (0..self.header.len()).map(|i| format!("{}:|", "-".repeat(width(i).max(3)))).collect::<String>());
        for r in &self.rows {
            s += &format!("| {} |\n", r.iter().map(esc).collect::<Vec<_>>().join(" | "));
        }
        s
    }

    /// The table as aligned plain text.
    pub fn to_plain(&self) -> String {
        let n = self.header.len();
        let mut w = vec![0; n];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(n) {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |r: &Vec<String>| {
            r.iter().enumerate().take(n).map(|(i, c)| format!("{c:>width$}", width = w[i])).collect::<Vec<_>>().join("  ")
        };
        let mut s = line(&self.header) + "\n";
        for r in &self.rows {
            s += &line(r);
            s += "\n";
        }
        s
    }

    /// Shows the table in a notebook cell as text/html, text/markdown and text/plain.
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT", self.to_html());
        println!("EVCXR_BEGIN_CONTENT text/markdown\n{}\nEVCXR_END_CONTENT", self.to_markdown());
        println!("EVCXR_BEGIN_CONTENT text/plain\n{}\nEVCXR_END_CONTENT", self.to_plain());
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_plain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn sci() {
        assert_eq!(fmt_sci(0.0), "0");
        assert_eq!(fmt_sci(1.234e-17), "1.2e-17");
        assert_eq!(fmt_sci(-2.0), "-2.0e0");
    }

    #[test]
    fn numbers_format_readably() {
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(-2.732), "-2.732");
        assert_eq!(fmt_num(0.1168), "0.1168");
        assert_eq!(fmt_num(1.0 / 3.0), "0.333333");
        assert_eq!(fmt_num(123.456789), "123.457");
        assert_eq!(fmt_num(1.5e-7), "1.5000e-7");
        assert_eq!(fmt_num(f64::NAN), "NaN");
        assert_eq!(fmt_digits(0.0019999999999999996, 12), "0.002");
        assert_eq!(fmt_digits(2.7522019999999996, 12), "2.752202");
        assert_eq!(fmt_digits(2.855647324401999, 12), "2.8556473244");
        assert_eq!(fmt_digits(2.855647324401999, 7), "2.855647");
        assert_eq!(fmt_digits(-0.5 + 0.483, 12), "-0.017");
        assert_eq!(fmt_digits(1.5e-7, 3), "1.5e-7");
        assert_eq!(fmt_list([0.966, 0.0019999999999999996], 12), "[0.966, 0.002]");
    }

    #[test]
    fn table_renders_in_three_formats() {
        let t = Table::from_array("", &["a".into(), "b".into()], &[], &array![[1.0, 0.5], [2.0, -1.0]]).unwrap();
        assert_eq!(t.to_markdown(), "|  | 0 | 1 |\n|---:|---:|---:|\n| a | 1 | 0.5 |\n| b | 2 | -1 |\n");
        let wide = Table::new(&["n", "what"]).row("a long name", &[1.0]);
        assert_eq!(wide.to_markdown().lines().nth(1), Some("|-----------:|----:|"));
        assert!(t.to_html().contains("<td style=\"text-align:right\">0.5</td>"));
        assert_eq!(t.to_plain(), "   0    1\na  1  0.5\nb  2   -1\n");
        let e = Table::from_array("", &["a".into()], &[], &array![[1.0], [2.0]]).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: table of a 2x1 array given 1 row names and 0 column names");
    }

    #[test]
    fn figure_is_a_png_with_text() {
        let fig = Figure::draw(120, 60, |root| {
            root.draw(&plotters::element::Text::new("Hi", (10, 10), (FONT, 30)))?;
            Ok(())
        })
        .unwrap();
        assert_eq!(&fig.png[..8], b"\x89PNG\r\n\x1a\n");
        // decode and check that the text left dark pixels on the white background
        let dec = png::Decoder::new(&fig.png[..]);
        let mut reader = dec.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut buf).unwrap();
        assert!(buf.iter().any(|&b| b < 100), "no text was drawn");
        let e = fig.save("/nonexistent-dir/fig.png").unwrap_err().to_string();
        assert_eq!(e, "cannot access /nonexistent-dir/fig.png: No such file or directory (os error 2)");
        let e = Figure::draw(10, 10, |_| Err("the closure failed".into())).unwrap_err().to_string();
        assert_eq!(e, "figure: the closure failed");
        let e = Figure::from_rgb(&[0; 5], 2, 2).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: an RGB image of 2x2 needs 12 bytes but the buffer has 5");
        let e = Figure::draw(0, 10, |_| Ok(())).unwrap_err().to_string();
        assert_eq!(e, "invalid hyperparameter figure size = 0x10: width and height must be between 1 and 8000 pixels");
    }
}
