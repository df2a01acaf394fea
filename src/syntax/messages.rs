//! The policy diagnostics in Chinese: one table of message patterns, so translations are kept
//! together and counted, not scattered over the lowering.
//!
//! Diagnostics are built in English (their codes, spans and structure do not depend on the
//! language); [`localize`] rewrites their message, labels and help for the reader. A pattern
//! is the English text with `{}` for each part taken from the source (a name, a value, a
//! list); its translation places those parts with `{0}`, `{1}`, …. A text no pattern matches
//! stays in English.

use super::diagnostics::PolicyDiagnostic;
use super::PolicyErrors;

/// The language of diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// `en` or `zh` (also `zh_CN`, `zh-Hans`, `zh_CN.UTF-8`, …).
    pub fn parse(text: &str) -> Option<Lang> {
        let t = text.trim().to_ascii_lowercase();
        if t == "zh" || t.starts_with("zh_") || t.starts_with("zh-") || t.starts_with("zh.") {
            Some(Lang::Zh)
        } else if t == "en" || t.starts_with("en_") || t.starts_with("en-") || t.starts_with("en.")
        {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language of the locale, as POSIX decides which variable counts: the first one set
    /// and not empty of `LC_ALL`, `LC_MESSAGES` and `LANG`. Chinese when it names Chinese,
    /// English otherwise.
    pub fn from_env() -> Lang {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Lang::from_env`] over any variable lookup (for tests).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| get(v).filter(|s| !s.is_empty()))
            .next()
            .and_then(|s| Lang::parse(&s))
            .unwrap_or(Lang::En)
    }
}

/// English pattern → Chinese. Codes are not translated; user text in backticks is kept.
pub const ZH: &[(&str, &str)] = &[
    // Parse errors.
    ("expected {}, found {}", "此处应为 {0}，实际为 {1}"),
    ("expected {}", "此处应为 {0}"),
    ("unexpected {}", "意外的 {0}"),
    ("the end of the file", "文件结尾"),
    ("a `{` may be missing its `}`", "可能有 `{` 缺少对应的 `}`"),
    (
        "see the language reference in the README for the lines each clause accepts",
        "各类条款可用的行见 README 中的语言参考",
    ),
    (
        "names are ASCII letters, digits and `_` (e.g. `complaint_contact`); put Chinese text in the title string",
        "名称只能由 ASCII 字母、数字和 `_` 组成（如 `complaint_contact`）；中文请写在标题字符串中",
    ),
    (
        "`{}` is a full-width character; its half-width form is `{}`",
        "`{0}` 是全角字符；其半角形式为 `{1}`",
    ),
    ("full-width", "全角字符"),
    ("write `{}`", "请写 `{0}`"),
    (
        "switch the input method to half-width (English) punctuation outside strings; Chinese text belongs inside `\"...\"`",
        "字符串之外请将输入法切换为半角（英文）标点；中文写在 `\"...\"` 之内",
    ),
    ("`=` is not a comparison", "`=` 不是比较运算符"),
    (
        "conditions compare with `==`, `!=`, `<`, `<=`, `>`, `>=` or `in [...]`, e.g. `when kind == \"repair\"`",
        "条件的比较运算符为 `==`、`!=`、`<`、`<=`、`>`、`>=` 或 `in [...]`，例如 `when kind == \"repair\"`",
    ),
    ("no deadline clause `{}` in this policy", "本政策中没有时限条款 `{0}`"),
    (
        "`{}` is not a deadline clause: it gives no verdicts to count",
        "`{0}` 不是时限条款：它没有可统计的判定",
    ),
    ("not a deadline clause of this policy", "不是本政策的时限条款"),
    (
        "name a `deadline` clause of this policy: its verdicts are what is counted",
        "请写本政策的 `deadline` 条款：统计的是它的判定",
    ),
    ("condition is nested too deeply", "条件嵌套过深"),
    ("more than {} levels deep here", "此处嵌套超过 {0} 层"),
    (
        "split the condition, or use `attribute in [...]` instead of long chains",
        "拆分条件，或用 `attribute in [...]` 代替长串的 `or`",
    ),
    ("`{}` is not a time of day", "`{0}` 不是一天中的时刻"),
    ("invalid time", "无效的时刻"),
    ("`{}` is not a date", "`{0}` 不是日期"),
    ("invalid date", "无效的日期"),
    ("dates are `YYYY-MM-DD`", "日期格式为 `YYYY-MM-DD`"),
    ("here", "此处"),
    // Clauses.
    ("unknown event type `{}`", "未知的事件类型 `{0}`"),
    ("not a known event type", "不是已知的事件类型"),
    (
        "did you mean `{}`? to use a new event type, declare it: `events {}`",
        "是否想写 `{0}`？如需使用新的事件类型，请先声明：`events {1}`",
    ),
    (
        "event types are those of EVENTS.md; to use a new one, declare it in the policy: `events {}`",
        "事件类型为 EVENTS.md 中的约定类型；如需新类型，请在策略中声明：`events {0}`",
    ),
    ("clause `{}` is defined twice", "条款 `{0}` 被定义了两次"),
    ("defined again here", "此处再次定义"),
    ("first defined here", "首次定义于此"),
    (
        "rename one of them, or give both `effective` date ranges that do not overlap",
        "重命名其中一个，或为两者设置互不重叠的 `effective` 日期范围",
    ),
    ("clause `{}` has two {} lines", "条款 `{0}` 有两行 {1}"),
    ("second one", "第二行"),
    ("first one", "第一行"),
    (
        "keep one; to stop at the first of several events write `until a or b`",
        "只保留一行；若要在几个事件中最先发生者处停止，请写 `until a or b`",
    ),
    ("keep one of them", "只保留其中一行"),
    ("a `{}` clause has no {} line", "`{0}` 条款没有 {1} 这一行"),
    ("not allowed here", "此处不允许"),
    ("a `{}` clause takes: {}", "`{0}` 条款可用的行：{1}"),
    ("deadline `{}` has no `until` line", "时限条款 `{0}` 缺少 `until` 行"),
    ("deadline `{}` has no limit", "时限条款 `{0}` 缺少时限"),
    ("this deadline", "此时限条款"),
    (
        "say which event stops the clock, e.g. `until resolved`",
        "请说明哪个事件使计时停止，如 `until resolved`",
    ),
    ("{} `{}` has no `{}` line", "{0} 条款 `{1}` 缺少 `{2}` 行"),
    ("unknown calendar `{}`", "未知的日历 `{0}`"),
    ("not declared in this policy", "本策略中未声明"),
    ("did you mean `{}`?", "是否想写 `{0}`？"),
    ("unknown time zone `{}`", "未知的时区 `{0}`"),
    ("not an IANA zone", "不是 IANA 时区"),
    (
        "use an IANA zone name such as `Asia/Shanghai` or `Europe/Berlin`",
        "请使用 IANA 时区名，如 `Asia/Shanghai` 或 `Europe/Berlin`",
    ),
    ("`{}` compares numbers, not {}", "`{0}` 只能比较数字，不能比较 {1}"),
    ("not a number", "不是数字"),
    (
        "`case.` compares an event with its case; this condition has no event",
        "`case.` 用于把事件与其工单比较；此条件中没有事件",
    ),
    ("not inside an event filter", "不在事件过滤条件中"),
    (
        "a `when` condition reads the case's attributes directly: `{}`; `{}` belongs in a trigger's filter, `{}`",
        "`when` 条件直接读取工单属性：`{0}`；`{1}` 应写在触发事件的过滤条件中，`{2}`",
    ),
    (
        "use `==` / `!=` / `in [...]` for text and booleans",
        "文本和布尔值请用 `==`、`!=` 或 `in [...]`",
    ),
    // The schema.
    ("unknown case attribute `{}`", "未知的案件属性 `{0}`"),
    ("not in the attribute schema", "不在属性模式中"),
    (
        "did you mean `{}`? to use a new attribute, declare it: `attributes { {}: string }`",
        "是否想写 `{0}`？如需使用新属性，请先声明：`attributes {{ {1}: string }}`",
    ),
    (
        "declare it in the schema: `attributes { {}: string }`",
        "请在属性模式中声明：`attributes {{ {0}: string }}`",
    ),
    ("`{}` has no value `{}`", "`{0}` 没有取值 `{1}`"),
    // Records: `EV before ATTR`.
    ("`{}` is a {}, not a timestamp", "`{0}` 是 {1}，不是时间戳"),
    ("not a `time` attribute", "不是 `time` 类型的属性"),
    (
        "`before` compares event times with an instant held in the case: declare it `attributes { {}: time }`",
        "`before` 将事件时间与案件中保存的时刻比较：请声明 `attributes {{ {0}: time }}`",
    ),
    ("not a value of the schema", "不是属性模式中的取值"),
    ("`{}` is one of {}", "`{0}` 的取值为 {1}"),
    ("`{}` is a {}, not {}", "`{0}` 是 {1}，不是 {2}"),
    ("never equal", "永远不相等"),
    ("the schema declares `{}`", "属性模式声明为 `{0}`"),
    ("attribute `{}` is declared twice", "属性 `{0}` 被声明了两次"),
    ("declared again here", "此处再次声明"),
    (
        "keep one declaration, listing all its values",
        "只保留一个声明，并列出它的全部取值",
    ),
    ("unknown lint `{}`", "未知的检查项 `{0}`"),
    ("not a lint", "不是检查项"),
    ("the lints are {}", "检查项有：{0}"),
    // Lints.
    ("clause `{}` applies to no case", "条款 `{0}` 不适用于任何案件"),
    ("no case satisfies this condition", "没有案件满足此条件"),
    (
        "the filter on `{}` in `{}` matches no event",
        "条款 `{1}` 中 `{0}` 的过滤条件不匹配任何事件",
    ),
    ("no event satisfies this condition", "没有事件满足此条件"),
    (
        "an attribute holds one value: to accept several write `kind in [\"complaint\", \"repair\"]`",
        "一个属性只有一个取值：如需接受多个取值，请写 `kind in [\"complaint\", \"repair\"]`",
    ),
    (
        "an attribute holds one value: to accept several write `{} in [{}]`",
        "一个属性只有一个取值：如需接受多个取值，请写 `{0} in [{1}]`",
    ),
    (
        "no value satisfies all of its comparisons together (given the schema's types and values): check the bounds and operators, or drop the line",
        "没有任何取值能同时满足其全部比较（按 schema 的类型和取值）：请检查边界和运算符，或删除这一行",
    ),
    ("`{}` can never fail", "`{0}` 永远不会不达标"),
    ("a ratio is never above 100%", "比率永远不会高于 100%"),
    ("a ratio is never below 0%", "比率永远不会低于 0%"),
    ("a sample of 0% requires no check", "0% 的抽查比例不要求任何抽查"),
    ("a coverage is never below 0%", "覆盖率永远不会低于 0%"),
    (
        "a quota of 0 is met by a period without any event",
        "定额为 0 时，没有任何事件的周期也达标",
    ),
    // Measuring targets.
    ("a count or a duration is never below 0", "计数或时长永远不会低于 0"),
    ("nothing falls by more than 100%", "任何数值的降幅都不会超过 100%"),
    ("a {} is taken over durations", "{0} 是对时长的统计"),
    ("no `- STOP` event", "缺少 `- 结束事件`"),
    (
        "measure the time between two events: `mean of resolved - opened`",
        "请度量两个事件之间的时间：`mean of resolved - opened`",
    ),
    ("a count counts cases, not durations", "计数统计的是案件数，不是时长"),
    ("a {} is not taken per listed value", "{0} 不能按列出的取值分别统计"),
    ("only a count is", "只有计数可以"),
    ("a {} is not a working day or a day off", "{0} 无所谓工作日或休息日"),
    ("only a day is", "只有一天才分工作日与休息日"),
    (
        "owe the duty on working days only: `meeting_held at least 1 per day on office`",
        "只在工作日要求该职责：`meeting_held at least 1 per day on office`",
    ),
    (
        "count each value: `measure count of rated per month each channel in [\"app\", \"sms\"]`",
        "按取值分别计数：`measure count of rated per month each channel in [\"app\", \"sms\"]`",
    ),
    ("a duration here", "此处为时长"),
    (
        "write `count of opened per year`, or `mean of resolved - opened`",
        "请写 `count of opened per year` 或 `mean of resolved - opened`",
    ),
    ("a count bound is a whole number of at least 0", "计数界限须为不小于 0 的整数"),
    ("a percentile is a whole number from 1 to 100", "百分位须为 1 到 100 之间的整数"),
    (
        "a change is between -100% and 10000% with at most one decimal",
        "变化幅度须在 -100% 到 10000% 之间，最多一位小数",
    ),
    ("a target has a `ratio` or a `measure`, not both", "目标条款只能有 `ratio` 或 `measure` 之一"),
    ("second measure", "第二个度量"),
    ("split it into two targets", "请拆分为两个目标条款"),
    (
        "a measure is bounded by a duration or a count, not a percentage",
        "度量的界限是时长或计数，不是百分比",
    ),
    ("a percentage", "百分比"),
    ("a measure has one bound: a value or a change", "度量只能有一个界限：数值或变化幅度"),
    ("this measure", "此度量"),
    ("a count is bounded by a number", "计数的界限是数字"),
    ("a duration", "时长"),
    ("a {} is bounded by a duration", "{0} 的界限是时长"),
    ("a number", "数字"),
    ("a ratio is bounded by a percentage", "比率的界限是百分比"),
    ("not a percentage", "不是百分比"),
    (
        "state the bound the standard sets; if the language cannot express it yet, `allow cannot_fail` with a comment saying what is missing",
        "写出标准规定的界限；若语言暂时无法表达，请写 `allow cannot_fail` 并注释说明缺少什么",
    ),
    ("calendar `{}` is never used", "日历 `{0}` 从未被使用"),
    ("declared here, used by no clause", "在此声明，但没有条款使用"),
    (
        "count a limit on it (`within 2 workdays on NAME`) or remove it",
        "让某个时限按它计算（`within 2 workdays on NAME`），或删除它",
    ),
    ("`{}` events have no attribute `{}`", "`{0}` 事件没有属性 `{1}`"),
    ("not an attribute of this event", "不是此事件的属性"),
    (
        "did you mean `{}`? to use a new attribute, declare it: {}",
        "是否想写 `{0}`？如需使用新属性，请先声明：{1}",
    ),
    ("declare it: {}", "请先声明：{0}"),
    ("`{}` is met whenever `{}` is", "只要 `{1}` 达标，`{0}` 就必然达标"),
    ("redundant clause", "多余的条款"),
    ("the stricter clause", "更严格的条款"),
    (
        "remove the looser clause, or give it what makes it different (another `when`, start or stop)",
        "删除较宽松的条款，或使它有所不同（不同的 `when`、起点或终点）",
    ),
    ("clause `{}` cites no standard", "条款 `{0}` 没有引用标准"),
    ("no `cite` line", "缺少 `cite` 行"),
    (
        "add `cite ROW-ID \"seed NNN §...\"`, the row and section of the standard",
        "添加 `cite ROW-ID \"seed NNN §...\"`，注明标准的条目和章节",
    ),
    // Calendars, limits and other checks (general patterns last).
    ("workdays need a calendar", "工作日时限需要日历"),
    ("business time needs a calendar", "工作时间时限需要日历"),
    (
        "`{}` on a calendar would be days of 24 working hours each",
        "日历上的 `{}` 会按每天 24 个工作小时计算（而不是工作日）",
    ),
    ("days of working time", "按工作时间计的天数"),
    ("a limit of `{}` allows no time at all", "时限 `{}` 不留任何时间"),
    ("no time", "没有时间"),
    (
        "write the time the standard allows, such as `1 hour` or `2 workdays on office`",
        "写出标准允许的时间，例如 `1 hour` 或 `2 workdays on office`",
    ),
    ("a share cannot be above 100%", "比例不能超过 100%"),
    (
        "attribute names are ASCII letters, digits and `_` (e.g. `severity`); Chinese text belongs in a string value, e.g. `severity == \"紧急\"`",
        "属性名只能用 ASCII 字母、数字和 `_`（如 `severity`）；中文应写在字符串值中，如 `severity == \"紧急\"`",
    ),
    (
        "`{}` does not begin a line of a clause; did you mean `{}`?",
        "`{0}` 不是条款中一行的开头；是否想写 `{1}`？",
    ),
    ("above 100%", "超过 100%"),
    (
        "write a share of at most `100%`, such as `at least 95%`",
        "比例最多为 `100%`，例如 `at least 95%`",
    ),
    (
        "write `3 workdays on office` for working days, `24 business hours on office` for working time, or drop `on office` for days of 24 hours",
        "工作日写作 `3 workdays on office`，工作时间写作 `24 business hours on office`；按每天 24 小时的自然日计时请去掉 `on office`",
    ),
    ("`same day` needs a calendar", "`same day` 需要日历"),
    ("`next workday` needs a calendar", "`next workday` 需要日历"),
    ("counted on which calendar?", "按哪个日历计算？"),
    ("whose working day?", "谁的工作日？"),
    ("whose workdays?", "谁的工作日？"),
    (
        "add `on office` (a calendar declared in this policy)",
        "添加 `on office`（本策略中声明的日历）",
    ),
    ("calendar `{}` is defined twice", "日历 `{0}` 被定义了两次"),
    ("rename one of them", "重命名其中一个"),
    ("the policy names its zone twice", "策略声明了两次时区"),
    ("second zone", "第二个时区"),
    ("keep one `zone` line", "只保留一行 `zone`"),
    ("`{}` is not a catalogue row id", "`{0}` 不是条款目录的行编号"),
    ("this id", "此编号"),
    (
        "a row id names a row of the clause catalogue: words of letters and digits joined by `-`, like `s000-complaint-contact-1h`",
        "行编号指向条款目录中的一行：由 `-` 连接的字母和数字，例如 `s000-complaint-contact-1h`",
    ),
    ("the clause is never effective", "该条款永远不会生效"),
    ("`until` is not after `from`", "`until` 不晚于 `from`"),
    (
        "duration is negative or longer than 100 years",
        "时长为负数或超过 100 年",
    ),
    ("this duration", "此时长"),
    ("working hours overlap on {}", "{0} 的工作时间重叠"),
    ("overlaps an earlier range", "与前面的时间段重叠"),
    ("working period ends before it starts", "工作时间段的结束早于开始"),
    ("empty range", "空的时间段"),
    ("`{}` is not a clause kind", "`{0}` 不是条款类型"),
    ("unknown kind", "未知的类型"),
    ("this range", "此日期范围"),
    ("this file", "此文件"),
    ("this notify", "此通知条款"),
    ("this sample", "此抽查条款"),
    ("this target", "此目标条款"),
    ("this repeat", "此重复条款"),
    ("this every", "此周期性职责条款"),
    ("this window", "此时间窗口条款"),
    ("add {}", "请添加 {0}"),
    // Alerts and `during`.
    ("alert `{}` is declared twice", "预警 `{0}` 声明了两次"),
    ("declared again here", "此处再次声明"),
    ("first declared here", "首次声明于此"),
    (
        "alert `{}` needs a `from` and an `until` line",
        "预警 `{0}` 需要 `from` 和 `until` 两行",
    ),
    ("this alert", "此预警"),
    (
        "say which events open and lift it: `from raised until lifted`",
        "写明开启和解除它的事件：`from raised until lifted`",
    ),
    ("unknown alert `{}`", "未知的预警 `{0}`"),
    ("not declared in this policy", "本策略中未声明"),
    (
        "declare it in the policy: `alert NAME { when ... from raised until lifted }`",
        "请在策略中声明：`alert NAME { when ... from raised until lifted }`",
    ),
    (
        "`per alert` needs a `during` line naming the alert",
        "`per alert` 需要一行 `during` 指明是哪个预警",
    ),
    ("which alert?", "哪个预警？"),
    ("add `during ALERT` to the clause", "请在条款中添加 `during ALERT`"),
    // Obligations triggered by a target's outcome.
    (
        "target `{}` requires an event after `{}` missed and also has a {} line",
        "目标条款 `{0}` 要求在 `{1}` 未达标后发生某事件，却还有一行 {2}",
    ),
    ("not beside `require`", "不能与 `require` 同用"),
    (
        "an obligation takes the period and groups of `{}`: move this line to `{}`, or put the obligation in a clause of its own",
        "义务沿用 `{0}` 的周期和分组：请把这一行移到 `{1}`，或把义务写成单独的条款",
    ),
    (
        "`{}` is an obligation, not a target with a verdict",
        "`{0}` 是一项义务，不是有达标结论的目标",
    ),
    ("an obligation", "一项义务"),
    (
        "name the target whose missed periods create the duty",
        "请写明其未达标周期产生此义务的目标",
    ),
    ("no target `{}` in this policy", "本策略中没有目标 `{0}`"),
    ("not a target of this policy", "不是本策略的目标"),
    (
        "name a `target` clause of this policy",
        "请写明本策略中的一个 `target` 条款",
    ),
];

/// The grammar's names for what was expected (`expected a name or a string`), inside the
/// parts of a parse error's message.
const ZH_WORDS: &[(&str, &str)] = &[
    ("the end of the file", "文件结尾"),
    ("end of file", "文件结尾"),
    ("a name or a list of names", "名称或名称列表"),
    ("a name", "名称"),
    ("a condition", "条件"),
    ("a string (`\"...\"`)", "字符串（`\"...\"`）"),
    ("a number", "数字"),
    ("a percentage", "百分比"),
    ("a duration", "时长"),
    ("a time of day", "时刻"),
    ("a date", "日期"),
    ("an event type", "事件类型"),
    ("a clause line", "条款行"),
    ("a calendar line", "日历行"),
    ("a clause", "条款"),
    ("a value", "值"),
    ("a comparison operator", "比较运算符"),
    ("a comparison", "比较"),
    ("a list", "列表"),
    ("an attribute schema", "属性模式"),
    ("an attribute", "属性"),
    ("a type", "类型"),
];

/// A part of a parse error's message with the grammar's names translated: a list of
/// alternatives (`a, b or c`), each translated only when the whole of it has a translation, so
/// that no phrase comes out half in each language ("a number of workdays" is not "数字 of
/// workdays").
fn words(part: &str) -> String {
    let whole = |item: &str| {
        ZH_WORDS
            .iter()
            .find(|(en, _)| *en == item)
            .map_or(item.to_string(), |(_, zh)| zh.to_string())
    };
    if ZH_WORDS.iter().any(|(en, _)| *en == part) {
        return whole(part);
    }
    // Cut at `, ` and ` or ` outside parentheses and backticks.
    let mut out = String::new();
    let (mut depth, mut quoted, mut start, mut i) = (0usize, false, 0usize, 0usize);
    let bytes = part.as_bytes();
    while i < bytes.len() {
        let rest = &bytes[i..];
        match bytes[i] {
            b'`' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.saturating_sub(1),
            _ if quoted || depth > 0 => {}
            _ if rest.starts_with(b", ") || rest.starts_with(b" or ") => {
                // Both are ASCII: `i` and the end of the separator are on char boundaries.
                let sep = if rest.starts_with(b", ") {
                    ", "
                } else {
                    " or "
                };
                out.push_str(&whole(&part[start..i]));
                out.push_str(if sep == ", " { ", " } else { " 或 " });
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&whole(&part[start..]));
    out
}

/// How many English patterns have a Chinese translation.
pub fn translated() -> usize {
    ZH.len()
}

/// `text` in `lang`: the translation of the first pattern it matches, else `text` itself.
pub fn translate(text: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return text.to_string();
    }
    for (pattern, zh) in ZH {
        if let Some(parts) = matches(pattern, text) {
            if *pattern == "add {}" {
                let part = parts[0].replace("` or `", "` 或 `");
                return fill(zh, &[part.as_str()]);
            }
            if pattern.starts_with("expected ") {
                let parts: Vec<String> = parts.iter().map(|p| words(p)).collect();
                let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
                return fill(zh, &parts);
            }
            return fill(zh, &parts);
        }
    }
    text.to_string()
}

/// Every message, label and help of `errors` in `lang`; codes and spans unchanged.
pub fn localize(errors: &PolicyErrors, lang: Lang) -> PolicyErrors {
    PolicyErrors {
        name: errors.name.clone(),
        errors: errors
            .errors
            .iter()
            .map(|d| localize_one(d, lang))
            .collect(),
    }
}

/// One diagnostic in `lang`.
pub fn localize_one(d: &PolicyDiagnostic, lang: Lang) -> PolicyDiagnostic {
    let mut out = d.clone();
    out.message = translate(&d.message, lang);
    out.help = d.help.as_deref().map(|h| translate(h, lang));
    for (_, label) in &mut out.labels {
        *label = translate(label, lang);
    }
    out
}

/// The parts of `text` at the `{}` of `pattern`, when it matches. A part is never empty, and
/// the literal text after it is its first occurrence (the last must end the text).
fn matches<'t>(pattern: &str, text: &'t str) -> Option<Vec<&'t str>> {
    let pieces: Vec<&str> = pattern.split("{}").collect();
    let (first, rest) = pieces.split_first()?;
    let mut pos = text.strip_prefix(first).map(|_| first.len())?;
    let mut parts = Vec::new();
    for (k, piece) in rest.iter().enumerate() {
        // A part has at least one character.
        let start = pos + text.get(pos..)?.chars().next()?.len_utf8();
        let hay = &text[start..];
        let len = if k + 1 == rest.len() {
            hay.strip_suffix(piece).map(str::len)
        } else {
            hay.find(piece)
        }?;
        let part_end = start + len;
        parts.push(&text[pos..part_end]);
        pos = part_end + piece.len();
    }
    (pos == text.len()).then_some(parts)
}

/// A translation with `{0}`, `{1}`, … replaced by the parts, and `{{` / `}}` by braces.
fn fill(template: &str, parts: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(close) = tail.find('}').filter(|_| tail.starts_with('{')) {
            if let Ok(k) = tail[1..close].parse::<usize>() {
                out.push_str(parts.get(k).copied().unwrap_or(""));
                rest = &tail[close + 1..];
                continue;
            }
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grammar's names in a parse error are translated a whole alternative at a time.
    #[test]
    fn alternatives_are_translated_whole_or_not_at_all() {
        assert_eq!(
            translate("expected a number, found end of file", Lang::Zh),
            "此处应为 数字，实际为 文件结尾"
        );
        assert_eq!(
            translate("expected a name or a list of names, found `}`", Lang::Zh),
            "此处应为 名称或名称列表，实际为 `}`"
        );
        // Text of the source in a part is cut on character boundaries.
        assert_eq!(
            translate("expected `投诉`, a number or `维修`, found `x`", Lang::Zh),
            "此处应为 `投诉`, 数字 或 `维修`，实际为 `x`"
        );
        let mixed = translate(
            "expected `workday`, a number of workdays (`2 workdays`) or a duration, found `hourz`",
            Lang::Zh,
        );
        assert_eq!(
            mixed,
            "此处应为 `workday`, a number of workdays (`2 workdays`) 或 时长，实际为 `hourz`"
        );
    }

    #[test]
    fn patterns_match_and_fill() {
        assert_eq!(
            translate("unknown event type `contactd`", Lang::Zh),
            "未知的事件类型 `contactd`"
        );
        assert_eq!(
            translate("`a` is met whenever `b` is", Lang::Zh),
            "只要 `b` 达标，`a` 就必然达标"
        );
        assert_eq!(
            translate(
                "declare it in the schema: `attributes { x: string }`",
                Lang::Zh
            ),
            "请在属性模式中声明：`attributes { x: string }`"
        );
        assert_eq!(
            translate(
                "expected a name or a string (`\"...\"`), found the end of the file",
                Lang::Zh
            ),
            "此处应为 名称 或 字符串（`\"...\"`），实际为 文件结尾"
        );
        assert_eq!(
            translate("target `t` has no `bound` line", Lang::Zh),
            "target 条款 `t` 缺少 `bound` 行"
        );
        assert_eq!(
            translate("add `at least 90%` or `at most 2%`", Lang::Zh),
            "请添加 `at least 90%` 或 `at most 2%`"
        );
        assert_eq!(translate("this target", Lang::Zh), "此目标条款");
        assert_eq!(translate("no such pattern", Lang::Zh), "no such pattern");
        assert_eq!(translate("here", Lang::En), "here");
    }

    #[test]
    fn every_pattern_matches_itself_with_parts() {
        for (pattern, _) in ZH {
            let text = pattern.replace("{}", "x");
            assert!(matches(pattern, &text).is_some(), "{pattern}");
        }
    }

    #[test]
    fn locale_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::from_vars(env(&[("LANG", "zh_CN.UTF-8")])), Lang::Zh);
        assert_eq!(
            Lang::from_vars(env(&[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "C")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_vars(env(&[("LANG", "en_US.UTF-8"), ("LC_MESSAGES", "zh_TW")])),
            Lang::Zh
        );
        assert_eq!(
            Lang::from_vars(env(&[("LC_ALL", ""), ("LANG", "zh")])),
            Lang::Zh
        );
        assert_eq!(Lang::from_vars(env(&[])), Lang::En);
    }
}
