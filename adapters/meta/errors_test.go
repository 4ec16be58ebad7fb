package meta

import (
	"strings"
	"testing"
)

func TestParseGraphError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   GraphError
	}{
		{
			name:   "messenger shape",
			status: 400,
			body:   `{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"error_user_title":"Message Not Sent","error_user_msg":"This person isn't receiving messages from you right now.","fbtrace_id":"AbCdEf123"}}`,
			want: GraphError{HTTPStatus: 400, Code: 10, Subcode: 2018278, Type: "OAuthException",
				Message: "(#10) This message is sent outside of allowed window.", Title: "Message Not Sent",
				Details: "This person isn't receiving messages from you right now.", FBTraceID: "AbCdEf123"},
		},
		{
			name:   "whatsapp shape",
			status: 400,
			body:   `{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"A9zXy"}}`,
			want: GraphError{HTTPStatus: 400, Code: 131047, Type: "OAuthException", Message: "(#131047) Re-engagement message",
				Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.", FBTraceID: "A9zXy"},
		},
		{
			name:   "whatsapp with title",
			status: 400,
			body:   `{"error":{"message":"Rate limit hit","code":130429,"title":"Rate limit hit","error_data":{"details":"Cloud API message throughput has been reached."},"is_transient":true}}`,
			want: GraphError{HTTPStatus: 400, Code: 130429, Message: "Rate limit hit", Title: "Rate limit hit",
				Details: "Cloud API message throughput has been reached.", IsTransient: true},
		},
		{
			name:   "token expired",
			status: 401,
			body:   `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"T1"}}`,
			want: GraphError{HTTPStatus: 401, Code: 190, Subcode: 463, Type: "OAuthException",
				Message: "Error validating access token: Session has expired", FBTraceID: "T1"},
		},
		{
			name:   "error_data as a string",
			status: 400,
			body:   `{"error":{"message":"bad","code":100,"error_data":"field x is wrong"}}`,
			want:   GraphError{HTTPStatus: 400, Code: 100, Message: "bad", Details: "field x is wrong"},
		},
		{
			name:   "proxy html",
			status: 502,
			body:   `<html><body>Bad Gateway</body></html>`,
			want:   GraphError{HTTPStatus: 502, Message: "<html><body>Bad Gateway</body></html>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseGraphError(tt.status, []byte(tt.body))
			if *got != tt.want {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
			if !strings.Contains(got.Error(), "HTTP") {
				t.Errorf("Error() = %q", got.Error())
			}
		})
	}
}
