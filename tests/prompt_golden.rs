//! The reference's prompt rendering, step parsing and observation wrapping, reproduced
//! (../shared/data/super_mario/prompt_format_examples.json).

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

mod common;

use arbor::search::prompt::{FewShot, PromptFormat, StepFormat};
use common::shared_data;
use serde_json::Value;

fn golden() -> Option<Value> {
    let path = shared_data("super_mario/prompt_format_examples.json")?;
    Some(serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
}

const SFT_PARTIAL: &str = "<step>\n<p>\nWe compute.\n</p>\n<code>\n```python\nprint(1+1)\n```\n</code>\n<output>\n2\n</output>\n</step>";
const REACT_PARTIAL: &str = "Thought: add.\n\nAction: python_interpreter\n\nAction Input: ```python\nprint(1+1)\n```\n\nObservation: 2";

#[test]
fn react_sft_prompts() {
    let Some(g) = golden() else { return };
    let f = PromptFormat::ReactSft;
    assert_eq!(f.render("What is $1+1$?", "", "\n", &[]), g["react_sft_prompt_root"].as_str().unwrap());
    assert_eq!(
        f.render("What is $1+1$?", SFT_PARTIAL, "\n", &[]),
        g["react_sft_prompt_with_partial"].as_str().unwrap()
    );
}

#[test]
fn react_prompts_with_the_drawn_demonstrations() {
    let Some(g) = golden() else { return };
    let few_shot = FewShot::reference().unwrap();
    assert_eq!(few_shot.examples.len(), 22);
    let f = PromptFormat::React(few_shot.clone());
    // The reference draws two examples at random per prompt; these are the ones it drew.
    let ex = |i: usize| few_shot.examples[i].as_str();
    assert_eq!(
        f.render("What is $1+1$?", "", "\n\n", &[ex(12), ex(13)]),
        g["react_prompt_root"].as_str().unwrap()
    );
    assert_eq!(
        f.render("What is $1+1$?", REACT_PARTIAL, "\n\n", &[ex(1), ex(8)]),
        g["react_prompt_with_partial"].as_str().unwrap()
    );
    let one = f.render("q", "", "\n\n", &[ex(0)]);
    assert!(one.contains("\n\nThe following is a demonstration example.\n\n"));
}

#[test]
fn react_sft_step_parsing() {
    let Some(g) = golden() else { return };
    for case in ["react_sft_unwrap_code_step", "react_sft_unwrap_final_step"] {
        let c = &g[case];
        let parsed = StepFormat::ReactSft.parse(c["generated_text"].as_str().unwrap()).unwrap();
        assert_eq!(parsed.step_result, c["step_result"].as_str().unwrap(), "{case}");
        assert_eq!(parsed.action, c["parser_result"]["action"].as_str().unwrap(), "{case}");
        assert_eq!(parsed.action_input, c["parser_result"]["action_input"].as_str().unwrap(), "{case}");
        assert_eq!(parsed.final_answer, c["parser_result"]["final_answer"].as_str().unwrap(), "{case}");
    }
    assert_eq!(
        StepFormat::ReactSft.wrap_observation("2"),
        g["react_sft_unwrap_code_step"]["obs_wrap('2')"].as_str().unwrap()
    );
    let err = StepFormat::ReactSft.parse("<step>\n<p>\njust text\n</p>").unwrap_err();
    assert_eq!(format!("ValueError: {err}"), g["react_sft_unwrap_unparsable"].as_str().unwrap());
}

#[test]
fn react_step_parsing() {
    let Some(g) = golden() else { return };
    for case in ["react_unwrap_code_step", "react_unwrap_final_step"] {
        let c = &g[case];
        let text = c["step_result"].as_str().unwrap();
        let parsed = StepFormat::React.parse(text).unwrap();
        assert_eq!(parsed.step_result, text, "{case}");
        assert_eq!(parsed.action, c["parser_result"]["action"].as_str().unwrap(), "{case}");
        assert_eq!(parsed.action_input, c["parser_result"]["action_input"].as_str().unwrap(), "{case}");
        assert_eq!(parsed.final_answer, c["parser_result"]["final_answer"].as_str().unwrap(), "{case}");
    }
    assert_eq!(StepFormat::React.wrap_observation("2"), g["react_obs_wrap('2')"].as_str().unwrap());
}
