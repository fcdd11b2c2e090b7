package message

import (
	"sort"
	"strings"
)

// Templates are the message texts by template code. SMS gateways in China send registered
// templates with parameters, so a message travels as code + params, and Text renders it for
// the gateway's record and for the local inbox. {link} is the tracking link built from the
// token at send time.
var Templates = map[string]string{
	"new_order":        "【好差评】差评工单{order}已派至{unit}，请于{due}前签收办理。",
	"pending_dispatch": "【好差评】差评工单{order}无法自动派单（{reason}），请人工派单。",
	"returned":         "【好差评】差评工单{order}被{unit}退单，理由：{reason}。请裁定。",
	"reminder":         "【好差评】差评工单{order}的{deadline}时限将于{due}届满，请抓紧办理。",
	"supervision":      "【好差评】督办通知：差评工单{order}（{unit}）的{deadline}时限已超期（{due}），现予{level}。",
	"escalated":        "【好差评】差评工单{order}（{unit}）现予{level}：{note}",
	"callback_notice":  "【好差评】您对{unit}的评价已收到，工作人员将于{due}前与您联系回访，请留意来电。办理进度请查看：{link}",
	"appeal_upheld":    "【好差评】您对{unit}的评价经复核不予采纳，复核结果请查看：{link}",
	// The evaluator's side of a partly upheld appeal: what is set aside, and that the order
	// goes on for the rest (a rejected appeal tells the evaluator nothing: the order simply
	// continues and ends in the feedback message, as every order does).
	"appeal_upheld_partly_evaluator": "【好差评】您对{unit}的评价中，{indicators}评价经复核不予采纳；{remaining}评价反映的问题仍在继续办理，办理进度请查看：{link}",
	// 通报: the same-level administration is told of every upheld appeal.
	"appeal_upheld_notice": "【好差评】通报：差评工单{order}（{unit}）的申诉经复核成立，{indicators}评价不予采纳。{note}",
	"appeal_upheld_partly": "【好差评】差评工单{order}的申诉成立，{indicators}评价不予采纳；{remaining}评价仍须整改或解释说明，请继续办理。",
	"feedback":             "【好差评】您反映的问题已由{unit}办理完毕，办理结果及满意度评价请访问：{link}",
	"return_refused":       "【好差评】差评工单{order}的退单申请未获同意（{reason}），请继续办理。",
	"dissatisfied":         "【好差评】评价人对差评工单{order}的办理结果不满意，可决定是否重新办理。",
	// A step of an order failed for good (issue 16): the order is unchanged, someone must look.
	"step_failed": "【好差评】差评工单{order}（{unit}）的{step}处理失败，工单保持原状，请检查时限政策或联系系统运维。",
}

// DeadlineLabels names the stages in messages.
var DeadlineLabels = map[string]string{
	"sign": "签收", "callback": "回访", "rectify": "整改", "appeal_decision": "申诉复核",
	"review": "审核", "feedback": "反馈", "dispatch": "人工派单", "ruling": "退单裁定", "committed": "承诺办结",
}

// LevelLabels names the supervision levels in messages.
var LevelLabels = map[string]string{"1": "督办", "2": "挂牌督办"}

// Text renders a template with its parameters; an unknown template renders its code and
// parameters so that nothing is silently dropped.
func Text(template string, params map[string]string) string {
	t, ok := Templates[template]
	if !ok {
		keys := make([]string, 0, len(params))
		for k := range params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString(template)
		for _, k := range keys {
			b.WriteString(" " + k + "=" + params[k])
		}
		return b.String()
	}
	pairs := make([]string, 0, 2*len(params))
	for k, v := range params {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(t)
}
