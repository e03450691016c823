//! Small plot helpers that take plain data (d2l style) and return a [`Figure`].
//!
//! A [`Chart`] is one panel: series of (x, y) points drawn as lines or
//! markers, with a title, axis labels, a legend and optional log axes.
//! [`Chart::figure`] draws one panel, [`grid`] draws several panels into one
//! PNG (a notebook cell shows one image). Points that are not finite, or not
//! positive on a log axis, are left out, so a diverging run ends where it
//! leaves the representable range instead of breaking the figure; with a
//! fixed y range, +∞ is drawn at the top of the range instead.

use crate::show::display::{Area, DrawResult, Figure, FONT};
use crate::core::error::{Error, Result};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// Ten distinct colours (matplotlib's "tab10").
pub const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Connected line.
    Line,
    /// Unconnected filled circles.
    Points,
    /// Line with a circle at each point.
    LinePoints,
}

/// One named set of points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend entry ("" for none).
    pub name: String,
    /// x coordinates.
    pub x: Vec<f64>,
    /// y coordinates (same length as x).
    pub y: Vec<f64>,
    /// Line, points or both.
    pub style: Style,
    /// Index into [`COLORS`]; by default the series' position. It also picks the
    /// dash pattern and marker shape, so series stay apart in greyscale.
    pub color: Option<usize>,
}

/// A reference line across the whole panel (a target, a chosen epoch), drawn in
/// dark grey, dashed, with its own legend entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// Legend entry ("" for none).
    pub name: String,
    /// `true`: the vertical line x = `at`; `false`: the horizontal line y = `at`.
    pub vertical: bool,
    /// Where the line is (in data coordinates).
    pub at: f64,
}

/// Font sizes in pixels, chosen so that a figure up to 1120 pixels wide printed
/// across a page (about 15 cm) shows every text at 8 pt or more.
pub mod font {
    /// Panel titles.
    pub const TITLE: u32 = 24;
    /// Tick labels, axis titles and legend entries.
    pub const LABEL: u32 = 22;
}

/// Dash pattern (dash length, gap) of series `k`; `None` = solid.
fn dash(k: usize) -> Option<(u32, u32)> {
    [None, Some((14, 7)), Some((3, 5)), Some((8, 4)), Some((20, 5)), Some((2, 9))][k % 6]
}

/// Where the legend goes inside the plotting area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Legend {
    /// Top right (the default).
    #[default]
    UpperRight,
    /// Top left.
    UpperLeft,
    /// Bottom left.
    LowerLeft,
    /// Bottom right.
    LowerRight,
    /// No legend even when series are named.
    Hidden,
}

/// One panel: series plus title, labels and axis options.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Chart {
    /// Title above the panel.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// The data.
    pub series: Vec<Series>,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// Fixed y range (data outside is clipped to it); automatic when `None`.
    pub y_range: Option<(f64, f64)>,
    /// Legend position.
    pub legend: Legend,
    /// Reference lines drawn over the data.
    pub marks: Vec<Mark>,
}

impl Chart {
    /// An empty chart with a title.
    pub fn new(title: &str) -> Chart {
        Chart { title: title.into(), ..Chart::default() }
    }

    /// Sets both axis labels.
    pub fn labels(mut self, x: &str, y: &str) -> Chart {
        self.x_label = x.into();
        self.y_label = y.into();
        self
    }

    /// Adds a series drawn as a line.
    pub fn line(self, name: &str, x: &[f64], y: &[f64]) -> Chart {
        self.series_with(name, x, y, Style::Line)
    }

    /// Adds a series drawn as markers.
    pub fn points(self, name: &str, x: &[f64], y: &[f64]) -> Chart {
        self.series_with(name, x, y, Style::Points)
    }

    /// Adds a series with an explicit style.
    pub fn series_with(mut self, name: &str, x: &[f64], y: &[f64], style: Style) -> Chart {
        self.series.push(Series { name: name.into(), x: x.to_vec(), y: y.to_vec(), style, color: None });
        self
    }

    /// Logarithmic y axis.
    pub fn log_y(mut self) -> Chart {
        self.log_y = true;
        self
    }

    /// Logarithmic x axis.
    pub fn log_x(mut self) -> Chart {
        self.log_x = true;
        self
    }

    /// Fixes the y range.
    pub fn y_range(mut self, lo: f64, hi: f64) -> Chart {
        self.y_range = Some((lo, hi));
        self
    }

    /// Adds the vertical reference line x = `at` (named in the legend unless `name` is "").
    pub fn vline(mut self, name: &str, at: f64) -> Chart {
        self.marks.push(Mark { name: name.into(), vertical: true, at });
        self
    }

    /// Adds the horizontal reference line y = `at` (kept inside an automatic y range).
    pub fn hline(mut self, name: &str, at: f64) -> Chart {
        self.marks.push(Mark { name: name.into(), vertical: false, at });
        self
    }

    /// Moves (or hides) the legend.
    pub fn legend(mut self, at: Legend) -> Chart {
        self.legend = at;
        self
    }

    /// Draws this chart alone into a figure of `width × height` pixels.
    pub fn figure(&self, width: u32, height: u32) -> Result<Figure> {
        self.validate()?;
        Figure::draw(width, height, |root| self.draw_on(root))
    }

    fn validate(&self) -> Result<()> {
        for s in &self.series {
            if s.x.len() != s.y.len() {
                return Err(Error::Shape(format!(
                    "series \"{}\" has {} x values but {} y values",
                    s.name,
                    s.x.len(),
                    s.y.len()
                )));
            }
        }
        if let Some((lo, hi)) = self.y_range {
            if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) || (self.log_y && lo <= 0.0) {
                return Err(Error::Hyperparameter {
                    name: "y_range".into(),
                    value: format!("({lo}, {hi})"),
                    reason: "needs lo < hi, and lo > 0 on a log axis".into(),
                });
            }
        }
        Ok(())
    }

    /// The data as plotted: log10 applied where asked, unusable points removed.
    fn transformed(&self) -> Vec<Vec<(f64, f64)>> {
        let tx = |v: f64| if self.log_x { v.log10() } else { v };
        let ty = |v: f64| if self.log_y { v.log10() } else { v };
        let clip = self.y_range.map(|(lo, hi)| (ty(lo), ty(hi)));
        self.series
            .iter()
            .map(|s| {
                s.x.iter()
                    .zip(&s.y)
                    .map(|(x, &y)| match (clip, y) {
                        (Some(_), f64::INFINITY) => (x, self.y_range.unwrap().1),
                        _ => (x, y),
                    })
                    .filter(|&(&x, y)| x.is_finite() && y.is_finite() && (!self.log_x || x > 0.0) && (!self.log_y || y > 0.0))
                    .map(|(&x, y)| {
                        let y = ty(y);
                        (tx(x), clip.map_or(y, |(lo, hi)| y.clamp(lo, hi)))
                    })
                    .collect()
            })
            .collect()
    }

    /// Draws the chart on a drawing area (one panel of a grid, or a whole figure):
    /// axes, series, reference lines, legend.
    pub fn draw_on(&self, area: &Area) -> DrawResult {
        let data = self.transformed();
        let (x0, x1, y0, y1) = self.ranges(&data);
        let mut chart = self.axes(area, (x0, x1, y0, y1))?;
        let named_series = self.draw_series(&mut chart, data)?;
        let named_marks = self.draw_marks(&mut chart, (x0, x1, y0, y1))?;
        self.draw_legend(&mut chart, named_series || named_marks)
    }

    /// The plotted range (x0, x1, y0, y1) in plot coordinates (log10 on a log axis):
    /// the data's, widened for horizontal reference lines, padded by 5 % in y unless fixed.
    fn ranges(&self, data: &[Vec<(f64, f64)>]) -> (f64, f64, f64, f64) {
        let all = data.iter().flatten();
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for &(x, y) in all {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        for m in self.marks.iter().filter(|m| !m.vertical && m.at.is_finite()) {
            let y = if self.log_y { m.at.log10() } else { m.at };
            if y.is_finite() {
                (y0, y1) = (y0.min(y), y1.max(y));
            }
        }
        if let Some((lo, hi)) = self.y_range {
            (y0, y1) = if self.log_y { (lo.log10(), hi.log10()) } else { (lo, hi) };
        } else {
            let pad = if y1 > y0 { 0.05 * (y1 - y0) } else { 0.5 };
            (y0, y1) = (y0 - pad, y1 + pad);
        }
        if x1 <= x0 {
            (x0, x1) = (x0 - 0.5, x1 + 0.5);
        }
        (x0, x1, y0, y1)
    }

    /// The mesh, tick labels and axis titles; returns the chart to draw into.
    fn axes<'a, 'b>(&self, area: &'a Area<'b>, (x0, x1, y0, y1): (f64, f64, f64, f64)) -> std::result::Result<Panel<'a, 'b>, Box<dyn std::error::Error>> {
        // on a log axis spanning two decades or more, label whole powers of ten only
        let (log_x, log_y) = (self.log_x && x1 - x0 >= 2.0, self.log_y && y1 - y0 >= 2.0);
        let (short_x, short_y) = (self.log_x && !log_x, self.log_y && !log_y);
        let fmt_axis = |v: f64, decades: bool, short_log: bool| {
            if decades {
                if (v - v.round()).abs() < 1e-9 { format!("1e{}", v.round() as i64) } else { String::new() }
            } else if short_log {
                crate::show::display::fmt_num(10f64.powf(v))
            } else {
                crate::show::display::fmt_num((v * 1e6).round() / 1e6)
            }
        };
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FONT, font::TITLE))
            .margin(10)
            .margin_right(26) // room for the last x tick label
            .x_label_area_size(56)
            .y_label_area_size(84)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FONT, font::LABEL))
            .axis_desc_style((FONT, font::LABEL))
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|v| fmt_axis(*v, log_x, short_x))
            .y_label_formatter(&|v| fmt_axis(*v, log_y, short_y))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        Ok(chart)
    }

    /// Each series as a line and/or markers, with its legend key; true when any series is named.
    fn draw_series<'a, 'b: 'a>(&self, chart: &mut Panel<'a, 'b>, data: Vec<Vec<(f64, f64)>>) -> std::result::Result<bool, Box<dyn std::error::Error>> {
        let mut any_named = false;
        for (i, (s, pts)) in self.series.iter().zip(data).enumerate() {
            let k = s.color.unwrap_or(i);
            let color = COLORS[k % COLORS.len()];
            let style = ShapeStyle::from(color).stroke_width(if dash(k) == Some((3, 5)) { 3 } else { 2 });
            let with_line = s.style != Style::Points;
            let with_marker = s.style != Style::Line;
            if with_marker {
                let shape = marker_shape(k, 5);
                chart.draw_series(pts.iter().map(|&p| EmptyElement::at(p) + Polygon::new(shape.clone(), color.filled())))?;
            }
            let anno = if !with_line {
                chart.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            } else {
                match dash(k) {
                    None => chart.draw_series(LineSeries::new(pts, style))?,
                    Some((on, off)) => chart.draw_series(DashedLineSeries::new(pts, on, off, style))?,
                }
            };
            if !s.name.is_empty() {
                any_named = true;
                // the key repeats the series' dash pattern and marker (a line 28 px long, marker in its middle)
                let (on, off) = if with_line { dash(k).unwrap_or((28, 1)) } else { (1, 40) };
                let key_style = if with_line { style } else { ShapeStyle::from(WHITE.mix(0.0)) };
                let dot = if with_marker { marker_shape(k, 5).into_iter().map(|(a, b)| (a + 14, b)).collect() } else { vec![(14, 0); 3] };
                anno.label(s.name.clone()).legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + DashedPathElement::new(vec![(0, 0), (28, 0)], on, off, key_style)
                        + Polygon::new(dot.clone(), if with_marker { color.filled() } else { key_style })
                });
            }
        }
        Ok(any_named)
    }

    /// The reference lines (vline, hline), dark grey and dashed; true when any is named.
    fn draw_marks<'a, 'b: 'a>(&self, chart: &mut Panel<'a, 'b>, (x0, x1, y0, y1): (f64, f64, f64, f64)) -> std::result::Result<bool, Box<dyn std::error::Error>> {
        let mut any_named = false;
        let grey = RGBColor(60, 60, 60);
        for m in &self.marks {
            let a = if m.vertical { if self.log_x { m.at.log10() } else { m.at } } else if self.log_y { m.at.log10() } else { m.at };
            if !a.is_finite() {
                continue;
            }
            let pts = if m.vertical { vec![(a, y0), (a, y1)] } else { vec![(x0, a), (x1, a)] };
            let (on, off) = if m.vertical { (10, 6) } else { (4, 4) };
            let anno = chart.draw_series(DashedLineSeries::new(pts, on, off, ShapeStyle::from(grey).stroke_width(2)))?;
            if !m.name.is_empty() {
                any_named = true;
                anno.label(m.name.clone()).legend(move |(x, y)| {
                    EmptyElement::at((x, y)) + DashedPathElement::new(vec![(0, 0), (28, 0)], on, off, ShapeStyle::from(grey).stroke_width(2))
                });
            }
        }
        Ok(any_named)
    }

    /// The legend box, where asked, when anything is named.
    fn draw_legend<'a, 'b: 'a>(&self, chart: &mut Panel<'a, 'b>, any_named: bool) -> DrawResult {
        let position = match self.legend {
            Legend::UpperRight => Some(SeriesLabelPosition::UpperRight),
            Legend::UpperLeft => Some(SeriesLabelPosition::UpperLeft),
            Legend::LowerLeft => Some(SeriesLabelPosition::LowerLeft),
            Legend::LowerRight => Some(SeriesLabelPosition::LowerRight),
            Legend::Hidden => None,
        };
        if let (true, Some(position)) = (any_named, position) {
            chart
                .configure_series_labels()
                .label_font((FONT, font::LABEL))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(position)
                .draw()?;
        }
        Ok(())
    }
}

/// One panel's chart: f64 axes on a bitmap.
type Panel<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// Outline of marker `k` (circle, triangle, square, diamond) as pixel offsets from its centre.
fn marker_shape(k: usize, size: i32) -> Vec<(i32, i32)> {
    let s = size;
    match k % 4 {
        0 => (0..12)
            .map(|i| {
                let t = i as f64 * std::f64::consts::PI / 6.0;
                ((s as f64 * t.cos()).round() as i32, (s as f64 * t.sin()).round() as i32)
            })
            .collect(),
        1 => vec![(0, -s - 1), (s + 1, s), (-s - 1, s)],
        2 => vec![(-s, -s), (s, -s), (s, s), (-s, s)],
        _ => vec![(0, -s - 2), (s + 2, 0), (0, s + 2), (-s - 2, 0)],
    }
}

/// Several charts in one PNG, `cols` per row, each panel `panel_w × panel_h` pixels.
pub fn grid(charts: &[Chart], cols: usize, panel_w: u32, panel_h: u32) -> Result<Figure> {
    if charts.is_empty() || cols == 0 {
        return Err(Error::Empty("grid needs at least one chart and one column".into()));
    }
    for c in charts {
        c.validate()?;
    }
    let cols = cols.min(charts.len());
    let rows = charts.len().div_ceil(cols);
    Figure::draw(panel_w * cols as u32, panel_h * rows as u32, |root| {
        let areas = root.split_evenly((rows, cols));
        for (c, a) in charts.iter().zip(areas.iter()) {
            c.draw_on(a)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_render_and_reject_bad_series() {
        let x: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| (v * 0.3).exp()).collect();
        let c = Chart::new("growth").labels("n", "y").line("exp", &x, &y).log_y();
        let f = c.figure(400, 300).unwrap();
        assert_eq!((f.width, f.height), (400, 300));
        let g = grid(&[c.clone(), c.clone(), c], 2, 300, 200).unwrap();
        assert_eq!((g.width, g.height), (600, 400));
        let bad = Chart::new("bad").line("s", &[1.0, 2.0], &[1.0]);
        assert_eq!(bad.figure(100, 100).unwrap_err().to_string(), "shape mismatch: series \"s\" has 2 x values but 1 y values");
        // non-finite points are dropped, not an error
        Chart::new("nan").line("s", &[1.0, 2.0, 3.0], &[1.0, f64::NAN, f64::INFINITY]).figure(200, 100).unwrap();
    }
}

/// Two panels from a training history: error rate and average loss against the epoch,
/// train / valid / test in three colours, dash patterns and markers (the test curves are
/// left out when they are NaN). Same as [`learning_curves_marked`] without marks.
pub fn learning_curves(history: &[crate::train::EpochMetrics], title: &str) -> Result<Figure> {
    learning_curves_marked(history, title, None, None)
}

/// [`learning_curves`] with a dashed vertical line at `best_epoch` (the epoch kept) and a
/// dotted horizontal line at the error-rate target `target_error` (a fraction, e.g. 0.2).
/// The curves start at epoch 1: epoch 0 (the untrained network, near chance level) would
/// set the y range alone and squeeze the curves together, so its values go in the x-axis title.
pub fn learning_curves_marked(
    history: &[crate::train::EpochMetrics],
    title: &str,
    best_epoch: Option<usize>,
    target_error: Option<f64>,
) -> Result<Figure> {
    if history.is_empty() {
        return Err(Error::Empty("the training history is empty".into()));
    }
    if let Some(b) = best_epoch.filter(|&b| !history.iter().any(|m| m.epoch == b)) {
        return Err(Error::Hyperparameter {
            name: "best_epoch".into(),
            value: b.to_string(),
            reason: format!("the history has epochs {} to {}", history[0].epoch, history[history.len() - 1].epoch),
        });
    }
    let first = &history[0];
    let shown: &[crate::train::EpochMetrics] = if history.len() > 1 && first.epoch == 0 { &history[1..] } else { history };
    let ep: Vec<f64> = shown.iter().map(|m| m.epoch as f64).collect();
    let col = |f: fn(&crate::train::EpochMetrics) -> f64| shown.iter().map(f).collect::<Vec<f64>>();
    let (x_err, x_loss) = if shown.len() < history.len() {
        (
            format!("epoch (epoch 0: train error {:.1} %)", 100.0 * first.train_error),
            format!("epoch (epoch 0: train loss {})", crate::display::fmt_num((first.train_loss * 1e3).round() / 1e3)),
        )
    } else {
        ("epoch".to_string(), "epoch".to_string())
    };
    let mut err = Chart::new(&format!("{title}: error rate")).labels(&x_err, "error rate (%)");
    let mut loss = Chart::new(&format!("{title}: average loss")).labels(&x_loss, "cross-entropy");
    type Metric = fn(&crate::train::EpochMetrics) -> f64;
    let sets: [(&str, Metric, Metric); 3] = [
        ("train", |m| 100.0 * m.train_error, |m| m.train_loss),
        ("valid", |m| 100.0 * m.valid_error, |m| m.valid_loss),
        ("test", |m| 100.0 * m.test_error, |m| m.test_loss),
    ];
    for (name, e, l) in sets {
        let ev = col(e);
        if ev.iter().all(|v| v.is_nan()) {
            continue;
        }
        err = err.series_with(name, &ep, &ev, Style::LinePoints);
        loss = loss.series_with(name, &ep, &col(l), Style::LinePoints);
    }
    if let Some(b) = best_epoch {
        err = err.vline(&format!("kept: epoch {b}"), b as f64);
        loss = loss.vline("", b as f64);
    }
    if let Some(t) = target_error {
        err = err.hline(&format!("target {} %", crate::display::fmt_num(100.0 * t)), 100.0 * t);
    }
    // room above the curves (and the target line) for the legend box, so it hides none of them
    let err = with_legend_room(err);
    let loss = with_legend_room(loss);
    grid(&[err, loss], 2, 560, 400)
}

/// A y range that leaves the top of the panel to an upper-right legend: the data's range
/// (and any horizontal reference line), extended upwards until the legend's entries fit above it.
fn with_legend_room(chart: Chart) -> Chart {
    let ys = chart.series.iter().flat_map(|s| s.y.iter().copied())
        .chain(chart.marks.iter().filter(|m| !m.vertical).map(|m| m.at))
        .filter(|v| v.is_finite());
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let entries = chart.series.iter().filter(|s| !s.name.is_empty()).count() + chart.marks.iter().filter(|m| !m.name.is_empty()).count();
    if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) || chart.log_y {
        return chart;
    }
    // an entry is about 11 % of the panel's height: solve legend height <= headroom for the headroom
    let f = (0.11 * entries as f64).min(0.7);
    let span = hi - lo;
    chart.y_range(lo - 0.05 * span, hi + (0.05 + f * 1.05 / (1.0 - f)) * span)
}

/// One decision-region panel: the class a classifier predicts at each point of a
/// `res × res` grid over the data's bounding box (padded by 10 %), with the data on top.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionPanel {
    /// Title above the panel.
    pub title: String,
    /// (x_min, x_max, y_min, y_max) of the grid.
    pub bounds: (f64, f64, f64, f64),
    /// Grid resolution per axis.
    pub res: usize,
    /// Predicted class of grid cell (i, j), row-major with i along y.
    pub cells: Vec<usize>,
    /// The data points (2 features) and their labels.
    pub points: Vec<(f64, f64, usize)>,
}

impl RegionPanel {
    /// Evaluates `classify` (rows of 2 features → one class per row) on the grid.
    pub fn new(
        title: &str,
        data: &crate::data::Dataset<f64>,
        res: usize,
        classify: impl Fn(ndarray::ArrayView2<f64>) -> Result<Vec<usize>>,
    ) -> Result<RegionPanel> {
        if data.x.ncols() != 2 {
            return Err(Error::Shape(format!("decision regions need 2 features, the data have {}", data.x.ncols())));
        }
        if data.is_empty() || res < 2 {
            return Err(Error::Empty("decision regions need data points and a grid of at least 2 x 2".into()));
        }
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for r in data.x.rows() {
            x0 = x0.min(r[0]);
            x1 = x1.max(r[0]);
            y0 = y0.min(r[1]);
            y1 = y1.max(r[1]);
        }
        let (px, py) = (0.1 * (x1 - x0).max(1e-9), 0.1 * (y1 - y0).max(1e-9));
        let bounds = (x0 - px, x1 + px, y0 - py, y1 + py);
        let grid = ndarray::Array2::from_shape_fn((res * res, 2), |(k, c)| {
            let (i, j) = (k / res, k % res);
            if c == 0 {
                bounds.0 + (j as f64 + 0.5) / res as f64 * (bounds.1 - bounds.0)
            } else {
                bounds.2 + (i as f64 + 0.5) / res as f64 * (bounds.3 - bounds.2)
            }
        });
        let cells = classify(grid.view())?;
        if cells.len() != res * res {
            return Err(Error::Shape(format!("the classifier returned {} classes for {} grid points", cells.len(), res * res)));
        }
        let points = data.x.rows().into_iter().zip(&data.y).map(|(r, &c)| (r[0], r[1], c)).collect();
        Ok(RegionPanel { title: title.into(), bounds, res, cells, points })
    }

    /// Fraction of the data points whose region class equals their label.
    pub fn agreement(&self) -> f64 {
        let (x0, x1, y0, y1) = self.bounds;
        let ok = self
            .points
            .iter()
            .filter(|&&(x, y, c)| {
                let j = (((x - x0) / (x1 - x0) * self.res as f64) as usize).min(self.res - 1);
                let i = (((y - y0) / (y1 - y0) * self.res as f64) as usize).min(self.res - 1);
                self.cells[i * self.res + j] == c
            })
            .count();
        ok as f64 / self.points.len() as f64
    }

    fn draw_on(&self, area: &Area) -> DrawResult {
        let (x0, x1, y0, y1) = self.bounds;
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FONT, font::TITLE - 4))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        // sized for two 400-pixel panels per row: 18 px is about 10 pt at print width
        chart.configure_mesh().disable_mesh().label_style((FONT, 18)).x_labels(5).y_labels(5).draw()?;
        let (dx, dy) = ((x1 - x0) / self.res as f64, (y1 - y0) / self.res as f64);
        chart.draw_series(self.cells.iter().enumerate().map(|(k, &c)| {
            let (i, j) = (k / self.res, k % self.res);
            let (cx, cy) = (x0 + j as f64 * dx, y0 + i as f64 * dy);
            Rectangle::new([(cx, cy), (cx + dx, cy + dy)], COLORS[c % COLORS.len()].mix(0.25).filled())
        }))?;
        chart.draw_series(self.points.iter().map(|&(x, y, c)| Circle::new((x, y), 3, COLORS[c % COLORS.len()].filled())))?;
        chart.draw_series(self.points.iter().map(|&(x, y, _)| Circle::new((x, y), 3, BLACK.mix(0.6).stroke_width(1))))?;
        Ok(())
    }
}

/// Several decision-region panels in one PNG, `cols` per row.
pub fn regions_grid(panels: &[RegionPanel], cols: usize, panel: u32) -> Result<Figure> {
    if panels.is_empty() || cols == 0 {
        return Err(Error::Empty("regions_grid needs at least one panel and one column".into()));
    }
    let cols = cols.min(panels.len());
    let rows = panels.len().div_ceil(cols);
    Figure::draw(panel * cols as u32, panel * rows as u32, |root| {
        for (p, a) in panels.iter().zip(root.split_evenly((rows, cols)).iter()) {
            p.draw_on(a)?;
        }
        Ok(())
    })
}

/// A grid of grey-scale images (each row of `images` is one `side × side` image with values in
/// [0, 1]) with a caption each: the class name, or "predicted (true)" in red when a prediction is wrong.
pub fn image_grid(
    images: ndarray::ArrayView2<f64>,
    side: usize,
    labels: &[usize],
    predicted: Option<&[usize]>,
    names: &[&str],
    cols: usize,
) -> Result<Figure> {
    let n = images.nrows();
    if n == 0 || cols == 0 {
        return Err(Error::Empty("image_grid needs at least one image and one column".into()));
    }
    if images.ncols() != side * side || labels.len() != n || predicted.is_some_and(|p| p.len() != n) {
        return Err(Error::Shape(format!(
            "image_grid: {n} images of {} pixels (side {side} needs {}), {} labels, {} predictions",
            images.ncols(),
            side * side,
            labels.len(),
            predicted.map_or(n, |p| p.len())
        )));
    }
    if let Some(&bad) = labels.iter().chain(predicted.unwrap_or(&[]).iter()).find(|&&c| c >= names.len()) {
        return Err(Error::Shape(format!("class {bad} has no name ({} names given)", names.len())));
    }
    // captions of 17 px: 8 pt or more at print width for up to 6 columns (816 px);
    // a wrong prediction gets two lines, the predicted class in red and "(true class)" below
    let (scale, caption) = (4u32, 46u32);
    let cell_w = side as u32 * scale + 24;
    let cell_h = side as u32 * scale + caption;
    let cols = cols.min(n);
    let rows = n.div_ceil(cols);
    Figure::draw(cell_w * cols as u32, cell_h * rows as u32, |root| {
        for (k, area) in root.split_evenly((rows, cols)).iter().enumerate().take(n) {
            let img = images.row(k);
            for (p, &v) in img.iter().enumerate() {
                let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8; // dark ink on white
                let (r, c) = ((p / side) as i32, (p % side) as i32);
                let s = scale as i32;
                area.draw(&Rectangle::new([(8 + c * s, 4 + r * s), (8 + (c + 1) * s, 4 + (r + 1) * s)], RGBColor(g, g, g).filled()))?;
            }
            let truth = names[labels[k]];
            let y0 = 6 + side as i32 * scale as i32;
            match predicted {
                Some(p) if p[k] != labels[k] => {
                    area.draw(&Text::new(names[p[k]].to_string(), (4, y0), (FONT, 17).into_font().color(&RED)))?;
                    area.draw(&Text::new(format!("({truth})"), (4, y0 + 19), (FONT, 17).into_font().color(&RED)))?;
                }
                _ => area.draw(&Text::new(truth.to_string(), (4, y0), (FONT, 17).into_font().color(&BLACK)))?,
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod figure_tests {
    use super::*;
    use crate::data::two_circles;

    #[test]
    fn regions_of_a_known_classifier() {
        let d = two_circles(200, 0.0, 0.5, 1).unwrap();
        // the ideal classifier for noiseless circles: inside radius 0.75 is class 1
        let p = RegionPanel::new("radius rule", &d, 60, |g| Ok(g.rows().into_iter().map(|r| usize::from(r[0].hypot(r[1]) < 0.75)).collect())).unwrap();
        assert_eq!(p.agreement(), 1.0);
        let q = RegionPanel::new("always 0", &d, 60, |g| Ok(vec![0; g.nrows()])).unwrap();
        assert_eq!(q.agreement(), 0.5);
        let f = regions_grid(&[p, q], 2, 300).unwrap();
        assert_eq!((f.width, f.height), (600, 300));
        let e = RegionPanel::new("bad", &d, 10, |_| Ok(vec![0; 3])).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: the classifier returned 3 classes for 100 grid points");
    }

    #[test]
    fn image_grid_and_curves() {
        let imgs = ndarray::Array2::from_shape_fn((3, 16), |(i, p)| ((i + p) % 4) as f64 / 3.0);
        let f = image_grid(imgs.view(), 4, &[0, 1, 1], Some(&[0, 0, 1]), &["a", "b"], 2).unwrap();
        assert!(f.width > 0);
        let e = image_grid(imgs.view(), 5, &[0, 1, 1], None, &["a", "b"], 2).unwrap_err().to_string();
        assert!(e.starts_with("shape mismatch: image_grid: 3 images of 16 pixels (side 5 needs 25)"), "{e}");
        let h = vec![crate::train::EpochMetrics { epoch: 0, train_error: 0.5, train_loss: 1.0, train_reg_loss: 1.0, valid_error: 0.5, valid_loss: 1.0, test_error: f64::NAN, test_loss: f64::NAN, seconds: 0.0 }];
        assert_eq!(learning_curves(&h, "t").unwrap().width, 1120);
        assert!(learning_curves(&[], "t").is_err());
    }
}
