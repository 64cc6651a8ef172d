//! Thoughts that quote the question: each code step's thought repeats, word for word, the
//! sentences of the question its numbers come from, and adds the story's own restatement only
//! when the quotes do not hold every number the code uses (a constant such as 60 minutes, a
//! factor said in words such as "three times", a running result).
//!
//! Why: a small model copies a sentence it has seen far more reliably than it rebuilds a number
//! from a paraphrase. With paraphrased thoughts the bundled 4-layer model wrote fluent steps
//! with the wrong names and numbers; a quote turns copying into continuing a sequence already
//! in the context, while choosing which sentence to quote (not a distractor), which operation
//! the sentence means ("3 fewer than" read the other way) and what to do with hidden constants
//! stays the model's job.

use super::story::GoldStep;

/// The whole numbers written in `text` (maximal digit runs).
fn numbers(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).collect()
}

/// The numbers a code step's expression uses (`var = expr`, the first line).
fn literals(code: &str) -> Vec<&str> {
    let first = code.lines().next().unwrap_or("");
    numbers(first.split_once('=').map_or(first, |(_, expr)| expr))
}

/// Rewrites the thought of every code step of `steps` as the quotes of `facts` (the story's
/// sentences, before distractors are mixed in) and of `question` it draws its numbers from.
/// A number is looked up in the facts not quoted yet first, in story order, then in those
/// already quoted, then in the question sentence; the last code step quotes the question.
pub fn quote_sources(facts: &[String], question: &str, steps: &mut [GoldStep]) {
    let mut sources: Vec<&str> = facts.iter().map(String::as_str).filter(|f| !f.is_empty()).collect();
    sources.push(question);
    let question_at = sources.len() - 1;
    let source_numbers: Vec<Vec<&str>> = sources.iter().map(|s| numbers(s)).collect();
    let mut quoted = vec![false; sources.len()];
    let last_code = steps.iter().rposition(|s| matches!(s, GoldStep::Code { .. }));
    for (index, step) in steps.iter_mut().enumerate() {
        let GoldStep::Code { thought, code, .. } = step else { continue };
        let mut chosen: Vec<usize> = Vec::new();
        let mut missing = false;
        for n in literals(code) {
            let has = |i: &usize| source_numbers[*i].contains(&n);
            let found = (0..question_at)
                .filter(|i| !quoted[*i])
                .find(has)
                .or_else(|| (0..question_at).filter(|i| quoted[*i]).find(has))
                .or_else(|| Some(question_at).filter(has));
            match found {
                Some(i) if !chosen.contains(&i) => chosen.push(i),
                Some(_) => {}
                None => missing = true,
            }
        }
        // Without a quote of its own, the thought still says in its own words what to do.
        let restate = missing || chosen.is_empty();
        // The last operation answers the question, so it quotes the question too.
        if Some(index) == last_code && !chosen.contains(&question_at) {
            chosen.push(question_at);
        }
        if chosen.is_empty() {
            continue;
        }
        chosen.sort_unstable();
        for &i in &chosen {
            quoted[i] = true;
        }
        let quotes: Vec<&str> = chosen.iter().map(|&i| sources[i]).collect();
        *thought = if restate { format!("{} {thought}", quotes.join(" ")) } else { quotes.join(" ") };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(thought: &str, code: &str) -> GoldStep {
        GoldStep::Code { thought: thought.into(), code: code.into(), output: String::new() }
    }

    fn thoughts(steps: &[GoldStep]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                GoldStep::Code { thought, .. } | GoldStep::Final { thought, .. } => thought.clone(),
            })
            .collect()
    }

    #[test]
    fn each_step_quotes_the_sentences_its_numbers_come_from() {
        let facts: Vec<String> = [
            "Tom buys 5 trays of balloons. Each tray holds 9 balloons.",
            "He gets 11 more.",
            "He loses 5 of them.",
        ]
        .map(String::from)
        .to_vec();
        let mut steps = vec![
            code("Tom has 5 trays of 9 balloons.", "balloons = 5 * 9\nprint(balloons)"),
            code("Tom gets 11 more balloons.", "balloons = balloons + 11\nprint(balloons)"),
            // 5 is in a quoted fact and an unquoted one: the unquoted one is meant.
            code("Tom has 5 fewer balloons now.", "balloons = balloons - 5\nprint(balloons)"),
            // 2 is nowhere in the text: the restatement stays after the quote.
            code("Tom keeps half.", "balloons = balloons / 2\nprint(balloons)"),
            GoldStep::Final { thought: "The answer is 3.".into(), answer: "3".into() },
        ];
        quote_sources(&facts, "How many balloons does Tom have?", &mut steps);
        assert_eq!(
            thoughts(&steps),
            [
                "Tom buys 5 trays of balloons. Each tray holds 9 balloons.",
                "He gets 11 more.",
                "He loses 5 of them.",
                "How many balloons does Tom have? Tom keeps half.",
                "The answer is 3.",
            ]
        );
    }

    #[test]
    fn a_number_of_the_question_sentence_quotes_it_and_a_missing_one_keeps_the_restatement() {
        let facts = vec!["Emma bakes 12 muffins every day.".to_owned()];
        let mut steps = vec![
            code("x", "muffins = 12 * 7\nprint(muffins)"),
            code("There are 60 minutes in each of the 3 hours.", "minutes = 3 * 60\nprint(minutes)"),
        ];
        quote_sources(&facts, "How many muffins does she bake in 7 days?", &mut steps);
        assert_eq!(
            thoughts(&steps),
            [
                "Emma bakes 12 muffins every day. How many muffins does she bake in 7 days?",
                "How many muffins does she bake in 7 days? There are 60 minutes in each of the 3 hours.",
            ]
        );
    }
}
