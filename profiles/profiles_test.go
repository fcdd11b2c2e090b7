package profiles

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"redress/calendar"
	"redress/models"
)

// ratedAt is 2026-03-05 09:07:08 China Standard Time.
var ratedAt = time.Date(2026, 3, 5, 1, 7, 8, 0, time.UTC)

func rating(level, channel string) Record {
	return Record{"evaluation_id": "ev-1", "case_no": "440305-2026-000123", "item_code": "11440300MB2C92041X4442111", "unit_code": "SZNS-GA",
		"division": "440305000", "channel": channel, "level": level, "rated_at": ratedAt, "count": 1, "comment": "等了很久",
		"evaluator_name": "欧阳修", "tags": []string{"态度不好", "多次跑动"}, "user_type": "personal", "promise": "promise"}
}

// TestNationalRating checks the GB/T 39046-2020 表9 record field by field: 满意度代码 n1 per
// A.8 (1 非常满意 … 5 非常不满意), 评价时间 YYYYMMDDThhmmss, 评价人 masked, 评价次数 n..2,
// 办件编号 an..50, 行政区划 n..9.
func TestNationalRating(t *testing.T) {
	p, err := Get(National)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Envelope {
		t.Error("the national record travels in Redress's envelope")
	}
	a8 := []struct{ level, code, words string }{
		{models.VerySatisfied, "1", "非常满意"}, {models.Satisfied, "2", "满意"}, {models.BasicallySatisfied, "3", "基本满意"},
		{models.Dissatisfied, "4", "不满意"}, {models.VeryDissatisfied, "5", "非常不满意"},
	}
	channels := []struct{ channel, code string }{
		{"pc", "1"}, {"mobile", "2"}, {"qr_code", "3"}, {"window_device", "4"}, {"terminal", "5"}, {"hotline", "6"}, {"sms", "6"}, {models.ChannelDefault, "7"},
	}
	for _, l := range a8 {
		for _, c := range channels {
			t.Run(l.level+"/"+c.channel, func(t *testing.T) {
				got, err := p.Render(KindRating, rating(l.level, c.channel))
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]string{
					"办件编号": "440305-2026-000123", "评价渠道": c.code, "评价人": "欧**", "评价时间": "20260305T090708",
					"评价次数": "1", "满意度": l.words, "满意度代码": l.code, "文字评价": "等了很久", "行政区划": "440305000",
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("表9 record\n got %v\nwant %v", got, want)
				}
			})
		}
	}
	// Formats refused: a case number past an..50, a 10-digit division, a count past n..2,
	// an unknown level.
	bad := []struct {
		name string
		edit func(Record)
	}{
		{"办件编号 an..50", func(r Record) { r["case_no"] = string(make([]byte, 51)) }},
		{"行政区划 n..9", func(r Record) { r["division"] = "4403050001" }},
		{"行政区划 digits", func(r Record) { r["division"] = "44030A000" }},
		{"评价次数 n..2", func(r Record) { r["count"] = 100 }},
		{"满意度代码 unknown level", func(r Record) { r["level"] = "good" }},
		{"办件编号 required", func(r Record) { delete(r, "case_no") }},
	}
	for _, b := range bad {
		r := rating(models.Satisfied, "pc")
		b.edit(r)
		if _, err := p.Render(KindRating, r); err == nil {
			t.Errorf("%s: rendered", b.name)
		}
	}
}

// TestNationalSupervision checks 表11 (电子监察): every data item present, the time in
// YYYYMMDDThhmmss, the warning type a code.
func TestNationalSupervision(t *testing.T) {
	p, _ := Get(National)
	got, err := p.Render(KindSupervision, Record{"content": "“签收”时限已超期，督办", "at": ratedAt, "id": "wf-1/7",
		"rule": "deadline:sign", "level": 2, "result": "挂牌督办", "unit_name": "南山区公安分局"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"督办内容": "“签收”时限已超期，督办", "督办发出时间": "20260305T090708", "监察编号": "wf-1/7",
		"监察规则编号": "deadline:sign", "监察预警类型代码": "2", "监察结果描述": "挂牌督办", "责任部门": "南山区公安分局"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("表11 record\n got %v\nwant %v", got, want)
	}
	if _, err := p.Render(KindSupervision, Record{"content": "x", "at": ratedAt, "id": "1", "rule": "r", "level": 3, "result": "r", "unit_name": "u"}); err == nil {
		t.Error("warning type 3 rendered")
	}
}

// TestZhejiangRating checks the provincial shape field by field: satisfaction reversed
// (1 非常不满意 … 5 非常满意), pf channel codes, assessNumber, userProp, evalDetail as tag codes,
// promiseTime; and reads it back.
func TestZhejiangRating(t *testing.T) {
	p, err := Get(Zhejiang)
	if err != nil {
		t.Fatal(err)
	}
	if p.Envelope {
		t.Error("the provincial record is the whole body")
	}
	levels := []struct{ level, code string }{
		{models.VeryDissatisfied, "1"}, {models.Dissatisfied, "2"}, {models.BasicallySatisfied, "3"}, {models.Satisfied, "4"}, {models.VerySatisfied, "5"},
	}
	pf := []struct{ channel, code, back string }{
		{"pc", "1", "pc"}, {"mobile", "2", "mobile"}, {"qr_code", "3", "qr_code"}, {"window_device", "4", "window_device"},
		{"terminal", "5", "terminal"}, {"sms", "6", "hotline"}, {"hotline", "6", "hotline"}, {models.ChannelDefault, "7", models.ChannelDefault},
	}
	others := []struct {
		count            int
		userType, prom   string
		nCode, uCode, pC string
	}{
		{1, "personal", "promise", "1", "1", "1"},
		{2, "legal", "immediate", "2", "2", "2"},
	}
	for _, l := range levels {
		for _, c := range pf {
			for _, o := range others {
				t.Run(l.level+"/"+c.channel+"/"+o.userType, func(t *testing.T) {
					r := rating(l.level, c.channel)
					r["count"], r["user_type"], r["promise"] = o.count, o.userType, o.prom
					got, err := p.Render(KindRating, r)
					if err != nil {
						t.Fatal(err)
					}
					want := map[string]string{
						"assessId": "ev-1", "projectNo": "440305-2026-000123", "taskCode": "11440300MB2C92041X4442111", "deptCode": "SZNS-GA",
						"areaCode": "440305000", "pf": c.code, "satisfaction": l.code, "assessNumber": o.nCode, "userProp": o.uCode,
						"evalDetail": "101,103", "evalContent": "等了很久", "promiseTime": o.pC, "assessTime": "2026-03-05 09:07:08", "userName": "欧**",
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("Zhejiang record\n got %v\nwant %v", got, want)
					}
					// Read back as a channel system would send it (userName unmasked there).
					in := map[string]any{}
					for k, v := range got {
						in[k] = v
					}
					in["userName"] = "欧阳修"
					back, err := p.Parse(KindRating, in)
					if err != nil {
						t.Fatal(err)
					}
					wantBack := rating(l.level, c.back)
					wantBack["count"], wantBack["user_type"], wantBack["promise"] = o.nCode, o.userType, o.prom
					wantBack["rated_at"] = ratedAt.UTC()
					if !reflect.DeepEqual(back, wantBack) {
						t.Fatalf("read back\n got %v\nwant %v", back, wantBack)
					}
				})
			}
		}
	}
	// A code outside the tables is refused with the key named.
	for key, v := range map[string]any{"satisfaction": "6", "pf": "8", "assessNumber": "3", "userProp": "0", "promiseTime": "3", "evalDetail": "101,999", "assessTime": "20260305T090708"} {
		in := map[string]any{"assessId": "e", "projectNo": "c", "pf": "1", "satisfaction": "5", "assessNumber": "1", "userProp": "1", "promiseTime": "1", "assessTime": "2026-03-05 09:07:08"}
		in[key] = v
		var fe FieldError
		if _, err := p.Parse(KindRating, in); !errors.As(err, &fe) || fe.Key != key {
			t.Errorf("%s=%v: %v", key, v, err)
		}
	}
	// JSON numbers are read as codes too.
	in := map[string]any{"assessId": "e", "projectNo": "c", "pf": 2.0, "satisfaction": 1.0, "assessNumber": 1.0, "userProp": 1.0, "promiseTime": 2.0, "assessTime": "2026-03-05 09:07:08"}
	rec, err := p.Parse(KindRating, in)
	if err != nil || rec["level"] != models.VeryDissatisfied || rec["channel"] != "mobile" {
		t.Fatalf("numbers: %v %v", rec, err)
	}
}

// TestSupplement: a 补报 carries the rating's fields and names the platform's id.
func TestSupplement(t *testing.T) {
	for _, tt := range []struct{ profile, flag, id, reason string }{
		{National, "补报标志", "原评价标识", "补报原因"},
		{Zhejiang, "isSupplement", "originalAssessId", "supplementReason"},
	} {
		p, _ := Get(tt.profile)
		r := rating(models.Dissatisfied, "pc")
		if _, err := p.Render(KindSupplement, r); err == nil {
			t.Errorf("%s: a supplement without the platform's id rendered", tt.profile)
		}
		r["supplement"], r["answer_id"], r["reason"] = "1", "ZJ-778", "评价经核实为刷评，已剔除"
		got, err := p.Render(KindSupplement, r)
		if err != nil {
			t.Fatal(err)
		}
		if got[tt.flag] != "1" || got[tt.id] != "ZJ-778" || got[tt.reason] != "评价经核实为刷评，已剔除" {
			t.Errorf("%s: supplement %v", tt.profile, got)
		}
	}
}

// TestThirdProvinceIsConfiguration: a profile from a file, no code.
func TestThirdProvinceIsConfiguration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(path, []byte(`{"name":"third","title":"第三省","answer_id":"result.id",
		"tables":{"level":{"very_satisfied":"A","satisfied":"B","basically_satisfied":"C","dissatisfied":"D","very_dissatisfied":"E"}},
		"rating":[{"key":"bjbh","from":"case_no","format":"an..50","required":true},{"key":"myd","from":"level","table":"level","format":"an..1","required":true},
		{"key":"pjsj","from":"rated_at","format":"datetime:2006/01/02 15:04","required":true}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Render(KindRating, rating(models.Dissatisfied, "pc"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"bjbh": "440305-2026-000123", "myd": "D", "pjsj": ratedAt.In(calendar.Zone()).Format("2006/01/02 15:04")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	if id := p.AnswerOf([]byte(`{"result":{"id":42}}`)); id != "42" {
		t.Errorf("answer id %q", id)
	}
	if err := os.WriteFile(path, []byte(`{"name":"broken","rating":[{"key":"x","from":"level","table":"nope","format":"n1"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err == nil {
		t.Error("a profile naming a missing table loaded")
	}
}
