//! What a notebook shows: [`display`] (Figure as PNG, Table as HTML / Markdown / text,
//! number formatting), [`plot`] (line charts, decision regions, image grids, learning
//! curves) and [`checks`] (a gradient check as a table). Imports the core, data and train;
//! nothing else imports it except the prelude.

pub mod checks;
pub mod display;
pub mod plot;
