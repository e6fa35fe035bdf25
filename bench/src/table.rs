//! A Markdown table whose columns line up in a terminal too.

/// Rows of text cells under a header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new<I, S>(header: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are left empty, extra cells dropped.
    pub fn push<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
    }

    /// The rows added so far.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// GitHub-flavoured Markdown, each column padded to its widest cell (`|` in cells escaped).
    pub fn markdown(&self) -> String {
        let escape = |cell: &str| cell.replace('|', "\\|");
        let header: Vec<String> = self.header.iter().map(|c| escape(c)).collect();
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| row.iter().map(|c| escape(c)).collect())
            .collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|row| width(&row[i]))
                    .chain([width(&header[i]), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - width(cell))))
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let mut out = line(&header);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        for row in &rows {
            out.push_str(&line(row));
        }
        out
    }
}

fn width(cell: &str) -> usize {
    cell.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut table = Table::new(["row", "ratio"]);
        table.push(["axum /open", "1.00×"]);
        table.push(["a|b", "0.5×"]);
        assert_eq!(
            table.markdown(),
            "| row        | ratio |\n\
             |------------|-------|\n\
             | axum /open | 1.00× |\n\
             | a\\|b       | 0.5×  |\n"
        );
    }

    #[test]
    fn short_rows_are_padded() {
        let mut table = Table::new(["a", "b", "c"]);
        table.push(["x"]);
        assert_eq!(table.rows()[0], ["x", "", ""]);
        assert!(table.markdown().ends_with("| x   |     |     |\n"));
    }
}
