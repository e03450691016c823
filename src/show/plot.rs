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
use plotters::element::{DashedPathElement, MultiLineText};
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
    [None, Some((14, 7)), Some((3, 5)), Some((8, 4)), Some((20, 5)), Some((2, 9)), Some((6, 3)), Some((28, 12))][k % 8]
}

/// The corner of the plotting area the legend should go in. It is a preference: when data lie
/// under that corner the legend moves to a free place, or the y range gets headroom for it, or
/// it goes below (or beside) the plot, so that it never covers data (see `Chart::layout`).
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
    /// Fixed y range (data outside is clipped to it); automatic when `None`. The axis may still
    /// show more below or above it when the legend needs headroom there (the clipping stays).
    pub y_range: Option<(f64, f64)>,
    /// Preferred legend corner (moved when data lie under it).
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

    /// Asks for a legend corner (kept when nothing lies under it), or hides the legend.
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
    /// axes, series, reference lines, legend (placed by `Chart::layout`, so it covers no data).
    pub fn draw_on(&self, area: &Area) -> DrawResult {
        self.draw_with(area, true).map(|_| ())
    }

    /// [`Chart::draw_on`], optionally without the legend box (the layout stays the same); returns the layout.
    fn draw_with(&self, area: &Area, with_legend: bool) -> std::result::Result<Layout, Box<dyn std::error::Error>> {
        let data = self.transformed();
        let layout = self.layout(area, &data)?;
        let room = match &layout.legend {
            Some(LegendAt::Outside { rect, .. }) if rect.1 >= layout.plot.1 + layout.plot.3 => (rect.3 + LEGEND_GAP, 0),
            Some(LegendAt::Outside { rect, .. }) => (0, rect.2 + LEGEND_GAP),
            _ => (0, 0),
        };
        let inner = self.titled(area)?;
        let mut chart = self.axes(&inner, layout.ranges, room)?;
        self.draw_series(&mut chart, data)?;
        self.draw_marks(&mut chart, layout.ranges)?;
        match (with_legend, layout.legend.clone()) {
            (true, Some(LegendAt::Inside(b))) => self.draw_legend(&mut chart, b)?,
            (true, Some(LegendAt::Outside { rect, at, line_h })) => self.draw_legend_outside(area, rect, &at, line_h)?,
            _ => {}
        }
        Ok(layout)
    }

    /// The legend's entries, in drawing order: the named series, then the named reference lines.
    fn legend_entries(&self) -> Vec<&str> {
        let series = self.series.iter().map(|s| s.name.as_str());
        series.chain(self.marks.iter().map(|m| m.name.as_str())).filter(|n| !n.is_empty()).collect()
    }

    /// Where the plotting area (inside the axes) lies on `area`: (left, top, width, height) in pixels.
    /// It does not depend on the ranges, so it is measured on a scratch bitmap of the same size.
    fn plot_rect(&self, area: &Area, room: (i32, i32)) -> std::result::Result<(i32, i32, i32, i32), Box<dyn std::error::Error>> {
        let (w, h) = area.dim_in_pixel();
        let mut buf = vec![255u8; (w * h * 3) as usize];
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let inner = self.titled(&root)?;
        let chart = self.builder(&inner, room).build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let (left, top) = chart.plotting_area().get_base_pixel();
        let (ax, ay) = root.get_base_pixel();
        Ok((left - ax, top - ay, pw as i32, ph as i32))
    }

    /// The plotted ranges and the legend's place, chosen so that the legend covers no data: see
    /// [`place_legend`] for the places inside the plotting area; when none is free, even after a
    /// modest extension of the y range, the legend goes outside the plot: below it, in rows of as
    /// many entries as fit, or, when that leaves the plot more room, in one column right of it.
    fn layout(&self, area: &Area, data: &[Vec<(f64, f64)>]) -> std::result::Result<Layout, Box<dyn std::error::Error>> {
        let ranges = self.ranges(data);
        let entries = self.legend_entries();
        let (left, top, pw, ph) = self.plot_rect(area, (0, 0))?;
        let preferred = match self.legend {
            Legend::Hidden => return Ok(Layout { ranges, plot: (left, top, pw, ph), legend: None }),
            _ if entries.is_empty() => return Ok(Layout { ranges, plot: (left, top, pw, ph), legend: None }),
            other => other,
        };
        let style = (FONT, font::LABEL).into_font();
        let mut text = MultiLineText::<(i32, i32), &str>::new((0, 0), style.clone());
        for e in &entries {
            text.push_line(*e);
        }
        let (tw, th) = text.estimate_dimension()?;
        let (bw, bh) = (tw + LEGEND_KEY + 2 * LEGEND_MARGIN, th + 2 * LEGEND_MARGIN);
        let obstacles = self.obstacles(data, ranges, (pw, ph));
        let nonneg_y = !self.log_y && data.iter().flatten().all(|&(_, y)| y >= 0.0);
        if let Some((ranges, (x, y))) = place_legend(preferred, ranges, (pw, ph), (bw, bh), &obstacles, nonneg_y) {
            return Ok(Layout { ranges, plot: (left, top, pw, ph), legend: Some(LegendAt::Inside((x, y, bw, bh))) });
        }
        // below the plot: the entries in rows, left to right, as many in a row as fit under the plotting area
        let line_h = th / entries.len() as i32;
        let (mut at, mut x, mut y, mut w) = (Vec::new(), 0, 0, 0);
        for e in &entries {
            let mut one = MultiLineText::<(i32, i32), &str>::new((0, 0), style.clone());
            one.push_line(*e);
            let ew = LEGEND_KEY + one.estimate_dimension()?.0;
            if x > 0 && x + ew > pw - 2 * LEGEND_MARGIN {
                (x, y) = (0, y + line_h);
            }
            at.push((LEGEND_MARGIN + x, LEGEND_MARGIN + y));
            w = w.max(x + ew);
            x += ew + 2 * LEGEND_MARGIN;
        }
        let (w, h) = (w + 2 * LEGEND_MARGIN, y + line_h + 2 * LEGEND_MARGIN);
        // or, when that leaves a larger plot (a tall legend on a narrow panel), in one column right of the plot
        if ((pw - bw - LEGEND_GAP) as f64 / pw as f64) > ((ph - h - LEGEND_GAP) as f64 / ph as f64) {
            let (left, top, pw, ph) = self.plot_rect(area, (0, bw + LEGEND_GAP))?;
            let rect = (left + pw + LEGEND_GAP, top, bw, bh);
            let at = (0..entries.len() as i32).map(|i| (LEGEND_MARGIN, LEGEND_MARGIN + i * line_h)).collect();
            return Ok(Layout { ranges, plot: (left, top, pw, ph), legend: Some(LegendAt::Outside { rect, at, line_h }) });
        }
        let (left, top, pw, ph) = self.plot_rect(area, (h + LEGEND_GAP, 0))?;
        let (_, ah) = area.dim_in_pixel();
        let rect = (left + (pw - w) / 2, ah as i32 - h - LEGEND_GAP / 2, w, h);
        Ok(Layout { ranges, plot: (left, top, pw, ph), legend: Some(LegendAt::Outside { rect, at, line_h }) })
    }

    /// What the legend must not cover, in plot coordinates: every data point, points along each
    /// drawn line (about every 3 pixels at the unextended ranges), and the reference lines (a
    /// vertical one over the data's y range: above it, in added headroom, it may pass under the box).
    fn obstacles(&self, data: &[Vec<(f64, f64)>], (x0, x1, y0, y1): Ranges, (pw, ph): (i32, i32)) -> Vec<(f64, f64)> {
        let (sx, sy) = (pw as f64 / (x1 - x0), ph as f64 / (y1 - y0));
        let mut out = Vec::new();
        for (s, pts) in self.series.iter().zip(data) {
            out.extend_from_slice(pts);
            if s.style == Style::Points {
                continue;
            }
            for w in pts.windows(2) {
                let ((ax, ay), (bx, by)) = (w[0], w[1]);
                let n = ((((bx - ax) * sx).hypot((by - ay) * sy)) / 3.0).ceil().clamp(1.0, 400.0) as usize;
                out.extend((1..n).map(|k| {
                    let t = k as f64 / n as f64;
                    (ax + t * (bx - ax), ay + t * (by - ay))
                }));
            }
        }
        for m in &self.marks {
            let a = match (m.vertical, self.log_x, self.log_y) {
                (true, true, _) | (false, _, true) => m.at.log10(),
                _ => m.at,
            };
            if !a.is_finite() {
                continue;
            }
            let n = (if m.vertical { ph } else { pw } / 3).max(2) as usize;
            out.extend((0..=n).map(|k| {
                let t = k as f64 / n as f64;
                if m.vertical { (a, y0 + t * (y1 - y0)) } else { (x0 + t * (x1 - x0), a) }
            }));
        }
        out
    }

    /// The panel below its title (drawn centred over the whole panel, whatever the legend's place).
    fn titled<'b>(&self, area: &Area<'b>) -> std::result::Result<Area<'b>, Box<dyn std::error::Error>> {
        Ok(area.margin(10, 0, 0, 0).titled(&self.title, (FONT, font::TITLE))?)
    }

    /// The chart builder of [`Chart::axes`] (margins, label areas) on the area below the title, before the ranges.
    /// `room`: pixels left free under the x-axis title and right of the plot (for a legend outside it).
    fn builder<'a, 'b>(&self, area: &'a Area<'b>, (below, right): (i32, i32)) -> ChartBuilder<'a, 'b, BitMapBackend<'b>> {
        let mut b = ChartBuilder::on(area);
        b.margin(10)
            .margin_top(0)
            .margin_right(26 + right.max(0) as u32) // room for the last x tick label
            .margin_bottom(10 + below.max(0) as u32)
            .x_label_area_size(56)
            .y_label_area_size(84);
        b
    }

    /// The plotted range (x0, x1, y0, y1) in plot coordinates (log10 on a log axis):
    /// the data's, widened for horizontal reference lines, padded by 5 % in y unless fixed.
    fn ranges(&self, data: &[Vec<(f64, f64)>]) -> Ranges {
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
    fn axes<'a, 'b>(&self, area: &'a Area<'b>, (x0, x1, y0, y1): Ranges, room: (i32, i32)) -> std::result::Result<Panel<'a, 'b>, Box<dyn std::error::Error>> {
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
        let mut chart = self.builder(area, room).build_cartesian_2d(x0..x1, y0..y1)?;
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

    /// Each series as a line and/or markers, with its legend key.
    fn draw_series<'a, 'b: 'a>(&self, chart: &mut Panel<'a, 'b>, data: Vec<Vec<(f64, f64)>>) -> DrawResult {
        // every series' markers first, then the lines over them: a line that coincides with another
        // series' markers (two step sizes with the same |x_n|) stays visible on top of them
        for (i, (s, pts)) in self.series.iter().zip(&data).enumerate() {
            if s.style != Style::Line {
                let k = s.color.unwrap_or(i);
                let (shape, color) = (marker_shape(k, 5), COLORS[k % COLORS.len()]);
                chart.draw_series(pts.iter().map(|&p| EmptyElement::at(p) + Polygon::new(shape.clone(), color.filled())))?;
            }
        }
        for (i, (s, pts)) in self.series.iter().zip(data).enumerate() {
            let k = s.color.unwrap_or(i);
            let style = line_style(k);
            let anno = if s.style == Style::Points {
                chart.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            } else {
                match dash(k) {
                    None => chart.draw_series(LineSeries::new(pts, style))?,
                    Some((on, off)) => chart.draw_series(DashedLineSeries::new(pts, on, off, style))?,
                }
            };
            if !s.name.is_empty() {
                let key = Key::series(k, s.style);
                anno.label(s.name.clone()).legend(move |at| key_element!(key, at));
            }
        }
        Ok(())
    }

    /// The reference lines (vline, hline), dark grey and dashed.
    fn draw_marks<'a, 'b: 'a>(&self, chart: &mut Panel<'a, 'b>, (x0, x1, y0, y1): Ranges) -> DrawResult {
        for m in &self.marks {
            let a = if m.vertical { if self.log_x { m.at.log10() } else { m.at } } else if self.log_y { m.at.log10() } else { m.at };
            if !a.is_finite() {
                continue;
            }
            let pts = if m.vertical { vec![(a, y0), (a, y1)] } else { vec![(x0, a), (x1, a)] };
            let key = Key::mark(m.vertical);
            let anno = chart.draw_series(DashedLineSeries::new(pts, key.on, key.off, key.line))?;
            if !m.name.is_empty() {
                anno.label(m.name.clone()).legend(move |at| key_element!(key, at));
            }
        }
        Ok(())
    }

    /// Every legend entry's key, in the legend's order.
    fn keys(&self) -> Vec<Key> {
        let series = self.series.iter().enumerate().filter(|(_, s)| !s.name.is_empty()).map(|(i, s)| Key::series(s.color.unwrap_or(i), s.style));
        series.chain(self.marks.iter().filter(|m| !m.name.is_empty()).map(|m| Key::mark(m.vertical))).collect()
    }

    /// The legend outside the plot: `rect` on the panel, entry i's row (`line_h` high) starting at `at[i]` in the rect.
    fn draw_legend_outside(&self, area: &Area, (x, y, w, h): (i32, i32, i32, i32), at: &[(i32, i32)], line_h: i32) -> DrawResult {
        area.draw(&Rectangle::new([(x, y), (x + w, y + h)], BLACK))?;
        let style = TextStyle::from((FONT, font::LABEL).into_font()).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        ));
        for ((name, key), &(dx, dy)) in self.legend_entries().into_iter().zip(self.keys()).zip(at) {
            let (ex, ey) = (x + dx, y + dy + line_h / 2);
            area.draw(&key_element!(key, (ex, ey)))?;
            area.draw(&Text::new(name.to_string(), (ex + LEGEND_KEY, ey), style.clone()))?;
        }
        Ok(())
    }

    /// The legend box at (x, y) of the plotting area (from [`Chart::layout`]).
    fn draw_legend<'a, 'b: 'a>(&self, chart: &mut Panel<'a, 'b>, (x, y, _, _): (i32, i32, i32, i32)) -> DrawResult {
        chart
            .configure_series_labels()
            .label_font((FONT, font::LABEL))
            .legend_area_size(LEGEND_KEY)
            .margin(LEGEND_MARGIN)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::Coordinate(x, y))
            .draw()?;
        Ok(())
    }
}

/// Plotted ranges (x0, x1, y0, y1) in plot coordinates (log10 on a log axis).
type Ranges = (f64, f64, f64, f64);

/// The legend box as plotters draws it: a key column of this width (the key is 28 pixels long, then a gap)...
const LEGEND_KEY: i32 = 36;
/// ... and this margin inside the border, around keys and text.
const LEGEND_MARGIN: i32 = 10;
/// Gap between the box and the edge of the plotting area.
const LEGEND_INSET: i32 = 5;
/// Least distance in pixels from a data point (or a point of a line) to the box: a marker's radius and a bit.
const LEGEND_CLEAR: i32 = 8;

/// Space between the x-axis title and a legend below the plot.
const LEGEND_GAP: i32 = 8;

/// Where the legend goes.
#[derive(Clone, Debug, PartialEq)]
enum LegendAt {
    /// Inside the plotting area: (x, y, width, height) in pixels of the plotting area.
    Inside((i32, i32, i32, i32)),
    /// Below the plot (or right of it): `rect` (x, y, width, height) in pixels of the panel;
    /// entry i's key starts at `at[i]` in the rect, its row `line_h` high.
    Outside { rect: (i32, i32, i32, i32), at: Vec<(i32, i32)>, line_h: i32 },
}

/// Where one panel's parts go.
#[derive(Clone, Debug, PartialEq)]
struct Layout {
    /// The plotted ranges, possibly extended to make room for the legend.
    ranges: Ranges,
    /// The plotting area on the panel: (left, top, width, height) in pixels.
    plot: (i32, i32, i32, i32),
    /// The legend's place; `None`: no legend.
    legend: Option<LegendAt>,
}

impl Layout {
    /// The legend's box (x, y, width, height) in pixels of the panel.
    #[cfg(test)]
    fn legend_on_panel(&self) -> Option<(i32, i32, i32, i32)> {
        match self.legend.as_ref()? {
            &LegendAt::Inside((x, y, w, h)) => Some((self.plot.0 + x, self.plot.1 + y, w, h)),
            LegendAt::Outside { rect, .. } => Some(*rect),
        }
    }
}

/// The legend's place inside the plotting area, and the ranges (see [`Chart::layout`]):
/// `obstacles` in plot coordinates, the plotting area `pw × ph` and the box `bw × bh` in pixels.
/// Returns the ranges and the box's top-left corner in pixels of the plotting area, or `None`
/// when no place is free even with headroom (the legend then goes below the plot).
///
/// In order: the corner asked for, another corner, or a place along the top or bottom edge, where
/// nothing lies under the box; else the smallest extension of the y range, by at most
/// [`MAX_HEADROOM`] of it, that frees a place: at its top (box along the top edge) or its bottom
/// (along the bottom edge; not when that would add negative values to a linear axis whose data are all ≥ 0).
fn place_legend(preferred: Legend, ranges: Ranges, (pw, ph): (i32, i32), (bw, bh): (i32, i32), obstacles: &[(f64, f64)], nonneg_y: bool) -> Option<(Ranges, (i32, i32))> {
    use Legend::*;
    if bw + 2 * LEGEND_INSET > pw || bh + 2 * LEGEND_INSET > ph {
        return None;
    }
    let (x0, x1, y0, y1) = ranges;
    let (left, right, top, bottom) = (LEGEND_INSET, pw - bw - LEGEND_INSET, LEGEND_INSET, ph - bh - LEGEND_INSET);
    let corner = |c: Legend| match c {
        UpperLeft => (left, top),
        LowerLeft => (left, bottom),
        LowerRight => (right, bottom),
        _ => (right, top),
    };
    // positions every 8 pixels from `a` to `b`, both ends included, `b` first
    let steps = |a: i32, b: i32| (0..=(b - a) / 8).map(move |k| b - 8 * k).chain(std::iter::once(a));
    let px = |x: f64| (x - x0) / (x1 - x0) * pw as f64;
    let py = |y: f64, (lo, hi): (f64, f64)| (hi - y) / (hi - lo) * ph as f64;
    let clear = LEGEND_CLEAR as f64;
    let span = |v: f64, from: i32, len: i32| (from as f64 - clear..=(from + len) as f64 + clear).contains(&v);
    let covered = |(bx, by): (i32, i32)| obstacles.iter().any(|&(x, y)| span(px(x), bx, bw) && span(py(y, (y0, y1)), by, bh));
    let mut free = vec![corner(preferred)];
    free.extend([UpperRight, UpperLeft, LowerRight, LowerLeft].map(corner));
    free.extend(steps(left, right).map(|x| (x, top)));
    free.extend(steps(left, right).map(|x| (x, bottom)));
    if let Some(&at) = free.iter().find(|&&at| !covered(at)) {
        return Some((ranges, at));
    }
    // headroom: f is the fraction of the plot's height the box and its gaps take
    let f = (LEGEND_INSET + bh + LEGEND_CLEAR + 2) as f64 / ph as f64;
    let mut best: Option<(f64, Ranges, (i32, i32))> = None;
    for bx in steps(left, right) {
        let ys: Vec<f64> = obstacles.iter().filter(|&&(x, _)| span(px(x), bx, bw)).map(|&(_, y)| y).collect();
        let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let up = y1.max((hi - f * y0) / (1.0 - f));
        let down = y0.min((lo - f * y1) / (1.0 - f));
        let mut options = vec![((up - y1) / (y1 - y0), (x0, x1, y0, up), (bx, top))];
        if !(nonneg_y && down < 0.0) {
            options.push(((y0 - down) / (y1 - y0), (x0, x1, down, y1), (bx, bottom)));
        }
        for (cost, r, at) in options {
            if cost.is_finite() && cost <= MAX_HEADROOM && best.is_none_or(|b| cost < b.0) {
                best = Some((cost, r, at));
            }
        }
    }
    best.map(|(_, r, at)| (r, at))
}

/// The largest extension of the y range (a fraction of it) made for a legend inside the plot.
const MAX_HEADROOM: f64 = 0.6;

/// One panel's chart: f64 axes on a bitmap.
type Panel<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// The line style of series `k`: its colour, 3 pixels wide when dotted (so dots show), else 2.
fn line_style(k: usize) -> ShapeStyle {
    ShapeStyle::from(COLORS[k % COLORS.len()]).stroke_width(if dash(k) == Some((3, 5)) { 3 } else { 2 })
}

/// A legend key: a line 28 pixels long in the series' dash pattern and style, with the series'
/// marker in its middle (for series drawn with markers), so the key looks like the series.
#[derive(Clone, Debug)]
struct Key {
    on: u32,
    off: u32,
    line: ShapeStyle,
    marker: Vec<(i32, i32)>,
    fill: ShapeStyle,
}

impl Key {
    /// The key of series `k` drawn as `style`.
    fn series(k: usize, style: Style) -> Key {
        let with_line = style != Style::Points;
        let (on, off) = if with_line { dash(k).unwrap_or((28, 1)) } else { (1, 40) };
        let line = if with_line { line_style(k) } else { ShapeStyle::from(WHITE.mix(0.0)) };
        let marker = if style != Style::Line { marker_shape(k, 5).into_iter().map(|(a, b)| (a + 14, b)).collect() } else { vec![(14, 0); 3] };
        let fill = if style != Style::Line { COLORS[k % COLORS.len()].filled() } else { line };
        Key { on, off, line, marker, fill }
    }

    /// The key of a reference line: dark grey, long dashes when vertical, short when horizontal.
    fn mark(vertical: bool) -> Key {
        let (on, off) = if vertical { (10, 6) } else { (4, 4) };
        let line = ShapeStyle::from(RGBColor(60, 60, 60)).stroke_width(2);
        Key { on, off, line, marker: vec![(14, 0); 3], fill: ShapeStyle::from(WHITE.mix(0.0)) }
    }
}

/// A [`Key`] as one element whose left end is at pixel `at` (a macro: the element's type depends on the backend).
macro_rules! key_element {
    ($key:expr, $at:expr) => {
        EmptyElement::at($at) + DashedPathElement::new(vec![(0, 0), (28, 0)], $key.on, $key.off, $key.line) + Polygon::new($key.marker.clone(), $key.fill)
    };
}
use key_element;

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

    /// `chart` drawn on a `w × h` bitmap, with or without its legend box (same layout either way).
    fn render(chart: &Chart, w: u32, h: u32, with_legend: bool) -> (Vec<u8>, Layout) {
        crate::show::display::register_font().unwrap();
        let mut buf = vec![255u8; (w * h * 3) as usize];
        let layout = {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            let l = chart.draw_with(&root, with_legend).unwrap();
            root.present().unwrap();
            l
        };
        (buf, layout)
    }

    /// Pixels of the legend's box (in figure pixels) that show data: a colour (a series) or a dark
    /// grey (a reference line), as opposed to the white background and the light grey grid.
    fn data_pixels_under_legend(chart: &Chart, w: u32, h: u32) -> (usize, usize) {
        let (bare, layout) = render(chart, w, h, false);
        let (with, _) = render(chart, w, h, true);
        let (px, py, bw, bh) = layout.legend_on_panel().expect("the chart has a legend");
        let (mut data, mut changed) = (0, 0);
        for y in py..py + bh {
            for x in px..px + bw {
                let i = 3 * (y as usize * w as usize + x as usize);
                let (r, g, b) = (bare[i], bare[i + 1], bare[i + 2]);
                let (hi, lo) = (r.max(g).max(b), r.min(g).min(b));
                if hi - lo > 30 || hi < 150 {
                    data += 1;
                }
                changed += usize::from(bare[i..i + 3] != with[i..i + 3]);
            }
        }
        (data, changed)
    }

    #[test]
    fn legends_cover_no_data() {
        // ps3's step-size figure: |x_n| = |1 - 10 eta|^n on a log axis fills every corner
        let n: Vec<f64> = (0..=60).map(f64::from).collect();
        let mut steps = Chart::new("gradient descent on 5x^2").labels("step n", "|x_n|").log_y().legend(Legend::LowerLeft);
        for eta in [0.001, 0.05, 0.15, 0.19, 0.21] {
            let y: Vec<f64> = n.iter().map(|&k| (1.0f64 - 10.0 * eta).abs().powf(k)).collect();
            steps = steps.series_with(&format!("eta = {eta}"), &n, &y, Style::LinePoints);
        }
        // ps1's shrink factors: steps from 0 to 1 across a log x axis, plus points, asked for lower right
        let lam: Vec<f64> = (0..=120).map(|k| 10f64.powf(-4.0 + 8.0 * k as f64 / 120.0)).collect();
        let mut shrink = Chart::new("shrink factor").labels("lambda", "factor").log_x().legend(Legend::LowerRight);
        for mu in [0.01, 0.1, 1.0, 10.0] {
            shrink = shrink.line(&format!("mu = {mu}"), &lam, &lam.iter().map(|l| l / (l + mu)).collect::<Vec<_>>());
        }
        let eig = [1e-3, 7e-3, 0.05, 0.37, 2.0, 9.0, 40.0, 300.0];
        shrink = shrink.points("eigenvalues, mu = 1", &eig, &eig.iter().map(|l| l / (l + 1.0)).collect::<Vec<_>>());
        // learning curves with a kept epoch and a target line
        let ep: Vec<f64> = (1..=40).map(f64::from).collect();
        let curve = |a: f64, b: f64| ep.iter().map(|e| a + b / e).collect::<Vec<f64>>();
        let curves = Chart::new("error rate").labels("epoch", "%")
            .series_with("train", &ep, &curve(5.0, 40.0), Style::LinePoints)
            .series_with("valid", &ep, &curve(12.0, 35.0), Style::LinePoints)
            .series_with("test", &ep, &curve(13.0, 35.0), Style::LinePoints)
            .vline("kept: epoch 25", 25.0)
            .hline("target 35 %", 35.0);
        for (chart, w, h) in [(&steps, 560, 420), (&shrink, 560, 420), (&curves, 560, 400), (&steps, 400, 300), (&shrink, 400, 300)] {
            if let Ok(d) = std::env::var("LEGEND_TEST_PNG") {
                chart.figure(w, h).unwrap().save(format!("{d}/{}-{w}.png", chart.title.len())).unwrap();
            }
            let (data, changed) = data_pixels_under_legend(chart, w, h);
            assert_eq!(data, 0, "{}: {data} data pixels under the legend at {w}x{h}", chart.title);
            assert!(changed > 500, "{}: the legend was not drawn where the layout says ({changed} pixels)", chart.title);
        }
        // the three ways: a free place, headroom (the curves' kept epoch is at the right, the
        // target line across), below the plot (the shrink factors fill every corner)
        let kind = |c: &Chart, w, h| {
            let (_, l) = render(c, w, h, true);
            match l.legend {
                Some(LegendAt::Inside(_)) if l.ranges == c.ranges(&c.transformed()) => "free",
                Some(LegendAt::Inside(_)) => "headroom",
                Some(LegendAt::Outside { rect, .. }) if rect.1 > l.plot.1 + l.plot.3 => "below",
                Some(LegendAt::Outside { .. }) => "beside",
                None => "none",
            }
        };
        let kinds = [kind(&steps, 560, 420), kind(&curves, 560, 400), kind(&shrink, 560, 420), kind(&steps, 400, 300)];
        assert_eq!(kinds, ["free", "headroom", "below", "beside"]);
        // no legend: hidden, or nothing named
        assert_eq!(render(&steps.clone().legend(Legend::Hidden), 400, 300, true).1.legend, None);
        assert_eq!(render(&Chart::new("t").line("", &[0.0, 1.0], &[0.0, 1.0]), 400, 300, true).1.legend, None);
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
    grid(&[err, loss], 2, 560, 400)
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
            .caption(&self.title, (FONT, font::TITLE))
            .margin(8)
            .x_label_area_size(52)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        // the chart's sizes (font::LABEL): three 380-pixel panels printed across the text width
        // (17 cm) show 22-pixel labels at about 9 pt
        chart
            .configure_mesh()
            .disable_mesh()
            .label_style((FONT, font::LABEL))
            .axis_desc_style((FONT, font::LABEL))
            .x_desc("x1")
            .y_desc("x2")
            .x_labels(5)
            .y_labels(5)
            .draw()?;
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
