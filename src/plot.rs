//! Small plot helpers that take plain data (d2l style) and return a [`Figure`].
//!
//! A [`Chart`] is one panel: series of (x, y) points drawn as lines or
//! markers, with a title, axis labels, a legend and optional log axes.
//! [`Chart::figure`] draws one panel, [`grid`] draws several panels into one
//! PNG (a notebook cell shows one image). Points that are not finite, or not
//! positive on a log axis, are left out, so a diverging run ends where it
//! leaves the representable range instead of breaking the figure; with a
//! fixed y range, +∞ is drawn at the top of the range instead.

use crate::display::{Area, DrawResult, Figure, FONT};
use crate::error::{Error, Result};
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
    /// Index into [`COLORS`]; by default the series' position.
    pub color: Option<usize>,
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

    /// Draws the chart on a drawing area (one panel of a grid, or a whole figure).
    pub fn draw_on(&self, area: &Area) -> DrawResult {
        let data = self.transformed();
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
        if let Some((lo, hi)) = self.y_range {
            (y0, y1) = if self.log_y { (lo.log10(), hi.log10()) } else { (lo, hi) };
        } else {
            let pad = if y1 > y0 { 0.05 * (y1 - y0) } else { 0.5 };
            (y0, y1) = (y0 - pad, y1 + pad);
        }
        if x1 <= x0 {
            (x0, x1) = (x0 - 0.5, x1 + 0.5);
        }
        // on a log axis spanning two decades or more, label whole powers of ten only
        let (log_x, log_y) = (self.log_x && x1 - x0 >= 2.0, self.log_y && y1 - y0 >= 2.0);
        let (short_x, short_y) = (self.log_x && !log_x, self.log_y && !log_y);
        let fmt_axis = |v: f64, decades: bool, short_log: bool| {
            if decades {
                if (v - v.round()).abs() < 1e-9 { format!("1e{}", v.round() as i64) } else { String::new() }
            } else if short_log {
                crate::display::fmt_num(10f64.powf(v))
            } else {
                crate::display::fmt_num((v * 1e6).round() / 1e6)
            }
        };
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FONT, 21))
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .x_label_formatter(&|v| fmt_axis(*v, log_x, short_x))
            .y_label_formatter(&|v| fmt_axis(*v, log_y, short_y))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let mut any_named = false;
        for (i, (s, pts)) in self.series.iter().zip(data).enumerate() {
            let color = COLORS[s.color.unwrap_or(i) % COLORS.len()];
            let style = ShapeStyle::from(color).stroke_width(2);
            let anno = match s.style {
                Style::Line => chart.draw_series(LineSeries::new(pts, style))?,
                Style::Points => chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))?,
                Style::LinePoints => {
                    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
                    chart.draw_series(LineSeries::new(pts, style))?
                }
            };
            if !s.name.is_empty() {
                any_named = true;
                anno.label(s.name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], ShapeStyle::from(color).stroke_width(3))
                });
            }
        }
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
                .label_font((FONT, 15))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(position)
                .draw()?;
        }
        Ok(())
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
