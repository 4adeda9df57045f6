// Quote trimming on what real mail clients put under a reply (text/plain parts as sent, or as
// html_to_text renders their HTML), in English and Indonesian.
#include <catch2/catch.hpp>

#include "loket/mime/email.hpp"

using namespace loket::mime;

namespace {
struct Case {
  const char* client;
  const char* body;
  const char* reply;
  const char* quoted_starts;
};

const Case kCases[] = {
    {"Gmail (en), attribution wrapped over two lines",
     "Thanks, it arrived today.\r\n\r\nOn Sun, Nov 29, 2026 at 4:02 PM Toko Anda <\r\nreply+Zk3q@in.loket.example> "
     "wrote:\r\n\r\n> Hello Budi, your parcel is on its way.\r\n>\r\n",
     "Thanks, it arrived today.", "On Sun, Nov 29, 2026 at 4:02 PM Toko Anda <"},
    {"Gmail (id)",
     "Terima kasih, sudah sampai.\n\nPada tanggal Min, 29 Nov 2026 pukul 16.02 Toko Anda <reply+Zk3q@in.loket.example> "
     "menulis:\n\n> Halo Budi, paket Anda sedang dalam perjalanan.\n",
     "Terima kasih, sudah sampai.", "Pada tanggal Min, 29 Nov 2026"},
    {"Outlook desktop (en)",
     "Please cancel the order.\n\nRegards,\nRenee\n\n-----Original Message-----\nFrom: Toko Anda "
     "<support@toko.example>\nSent: Sunday, November 29, 2026 4:02 PM\nTo: Renee <renee@outlook.example>\n"
     "Subject: Your order [#88]\n\nHello Renee,\n",
     "Please cancel the order.\n\nRegards,\nRenee", "-----Original Message-----"},
    {"Outlook desktop (id)",
     "Mohon dibatalkan.\n\n-----Pesan Asli-----\nDari: Toko Anda <support@toko.example>\nDikirim: Minggu, 29 "
     "November 2026 16.02\nKepada: Sari\nPerihal: Pesanan [#88]\n",
     "Mohon dibatalkan.", "-----Pesan Asli-----"},
    {"Outlook web and new Outlook (en)",
     "Yes, the address is correct.\n\n________________________________\nFrom: Toko Anda <support@toko.example>\n"
     "Sent: Sunday, 29 November 2026 16:02\nTo: Ana\nSubject: Re: Address [#90]\n\nCan you confirm?\n",
     "Yes, the address is correct.", "________________________________"},
    {"Outlook web without a rule (HTML rendered to text)",
     "Confirmed.\n\nFrom: Toko Anda <support@toko.example>\nSent: Sunday, 29 November 2026 16:02\nTo: Ana\n",
     "Confirmed.", "From: Toko Anda"},
    {"Outlook for iOS (en)",
     "On my way to the store.\n\nGet Outlook for iOS\n________________________________\nFrom: Toko Anda\n",
     "On my way to the store.", "Get Outlook for iOS"},
    {"Apple Mail (en)",
     "Great, thank you!\n\n> On 29 Nov 2026, at 16:02, Toko Anda <support@toko.example> wrote:\n>\n> Your refund "
     "is processed.\n",
     "Great, thank you!", "> On 29 Nov 2026"},
    {"Apple Mail on iPhone (en), attribution not quoted",
     "Great, thank you!\n\nSent from my iPhone\n\nOn 29 Nov 2026, at 16:02, Toko Anda <support@toko.example> "
     "wrote:\n\n> Your refund is processed.\n",
     "Great, thank you!", "Sent from my iPhone"},
    {"Apple Mail on iPhone (id)",
     "Baik, terima kasih.\n\nDikirim dari iPhone saya\n\nPada 29 Nov 2026, pukul 16.02, Toko Anda "
     "<support@toko.example> menulis:\n\n> Dana Anda sudah dikembalikan.\n",
     "Baik, terima kasih.", "Dikirim dari iPhone saya"},
    {"Thunderbird (en)", "See attached.\n\nOn 11/29/26 16:02, Toko Anda wrote:\n> Could you send the invoice?\n",
     "See attached.", "On 11/29/26 16:02, Toko Anda wrote:"},
    {"Thunderbird with a signature",
     "See attached.\n\n-- \nKarl Huber\nHuber GmbH\n\nOn 11/29/26 16:02, Toko Anda wrote:\n> Could you send it?\n",
     "See attached.", "-- \nKarl Huber"},
    {"Yahoo Mail (en)",
     "Still waiting.\n\n\n    On Sunday, November 29, 2026, 04:02:11 PM GMT+7, Toko Anda <support@toko.example> "
     "wrote:\n\n Your order ships tomorrow.\n",
     "Still waiting.", "On Sunday, November 29, 2026"},
    {"Yahoo Mail (id), from Android",
     "Masih menunggu.\n\nDikirim dari Yahoo Mail di Android\n\n  Pada Min, 29 Nov 2026 pada 16:02, Toko Anda\n"
     "<support@toko.example> menulis:   Pesanan dikirim besok.\n",
     "Masih menunggu.", "Dikirim dari Yahoo Mail di Android"},
    {"Bottom-posting with the answers between the quotes is left whole",
     "> What size?\nM, please.\n> Which colour?\nBlue.\n", "> What size?\nM, please.\n> Which colour?\nBlue.", ""},
    {"A trailing quote without attribution", "Here it is.\n\n> Please send the receipt.\n> Thanks\n", "Here it is.",
     "> Please send the receipt."},
    {"Nothing but a quote: nothing is trimmed", "On Sun, Nov 29, 2026 at 4:02 PM Toko Anda wrote:\n> hello\n",
     "On Sun, Nov 29, 2026 at 4:02 PM Toko Anda wrote:\n> hello", ""},
    {"A sentence that starts with On is text", "On Monday the parcel was not there.\nPlease check.",
     "On Monday the parcel was not there.\nPlease check.", ""},
};
}  // namespace

TEST_CASE("split_reply trims each client's quoted history and signature, keeping them apart") {
  for (const auto& c : kCases) {
    INFO(c.client);
    auto parts = split_reply(c.body);
    CHECK(parts.reply == c.reply);
    CHECK(parts.quoted.rfind(c.quoted_starts, 0) == 0);
    if (std::string(c.quoted_starts).empty()) CHECK(parts.quoted.empty());
  }
}

TEST_CASE("split_reply is linear on hostile input") {
  std::string many(200000, '\n');
  CHECK(split_reply(many).reply.empty());
  std::string long_line = "x\nOn " + std::string(1 << 20, 'a') + " wrote:";
  CHECK(split_reply(long_line).quoted.empty());  // too long to be an attribution line
  std::string lines;
  for (int i = 0; i < 100000; ++i) lines += "On a\n";
  CHECK(split_reply(lines).reply.size() == lines.size() - 1);
}
