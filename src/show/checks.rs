//! Gradient checks shown as tables: [`GradCheck`] (from the core) rendered with [`Table`].
//! Here rather than in `core::gradcheck`, so that the core never imports the display code.

use crate::core::gradcheck::GradCheck;
use crate::show::display::{fmt_num, fmt_sci, Table};

impl GradCheck {
    /// A table: parameter, index, backprop, finite difference, ratio, rel. error.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&["parameter", "index", "backprop", "finite diff.", "ratio", "rel. error"]);
        for r in &self.rows {
            let idx = r.index.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
            let ratio = match r.ratio() {
                Some(x) => format!("{x:.6}"),
                None => "both ~0".into(),
            };
            t.push_row(vec![r.name.clone(), format!("[{idx}]"), fmt_num(r.backprop), fmt_num(r.numeric), ratio, fmt_sci(r.rel_error())]);
        }
        t
    }

    /// Displays as its [`Table`] in a notebook.
    pub fn evcxr_display(&self) {
        self.table().evcxr_display();
    }
}
